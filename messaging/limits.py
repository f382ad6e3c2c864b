"""Per-socket rate limiting and the per-user socket limit.

The socket limit counts leases: in Redis (a sorted set per user, claimed by one script so
that processes cannot race past the limit) when REDIS_URL is set, in the process
otherwise. Neither goes through Django's cache, whose async methods wait for the one
shared database thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from redis.exceptions import NoScriptError

from messaging import redis_clients
from messaging.coalescing import Coalescer

log = logging.getLogger(__name__)

# A socket's lease: its process renews it every RENEW_SECONDS while the socket is open, so
# a socket of a crashed process stops counting toward its user's limit after this long.
SOCKET_LEASE_SECONDS = 90
RENEW_SECONDS = 30
# Leases claimed or released in one pipeline, at most.
LEASES_AT_ONCE = 500


class TokenBucket:
    """``rate`` frames a second on average, up to ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float:
        """0 when a frame may pass now; otherwise the seconds to wait before retrying."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class _LocalLeases:
    """One process's sockets (the embedded default: one process, so the count is exact)."""

    def __init__(self) -> None:
        self.by_user: dict[int, dict[str, float]] = {}

    async def claim(self, user_id: int, channel: str, limit: int, now: float) -> bool:
        leases = {c: e for c, e in self.by_user.get(user_id, {}).items() if e > now}
        if len(leases) >= limit:
            self.by_user[user_id] = leases
            return False
        leases[channel] = now + SOCKET_LEASE_SECONDS
        self.by_user[user_id] = leases
        return True

    async def renew(self, items: list[tuple[int, str]], now: float) -> None:
        for user_id, channel in items:
            self.by_user.setdefault(user_id, {})[channel] = now + SOCKET_LEASE_SECONDS

    async def release(self, user_id: int, channel: str) -> None:
        leases = self.by_user.get(user_id, {})
        leases.pop(channel, None)
        if not leases:
            self.by_user.pop(user_id, None)


# Drops expired leases, counts the live ones, adds this one if under the limit: one step,
# so two processes admitting the same user at once cannot both take the last place. A
# channel that holds a lease already keeps it (renewed): a pipeline that redis-py sends
# again after a lost answer claims nothing twice, nor refuses a socket its own place.
_CLAIM = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True)
class _Lease:
    """A socket's lease to claim (``limit`` and ``now`` given) or to release."""

    user_id: int
    channel: str
    limit: int | None = None
    now: float = 0.0


class _RedisLeases:
    """Every process's sockets, a sorted set per user (member: channel, score: expiry).
    The claims and releases of one event loop's sockets go to Redis a pipeline at a time:
    those made while one is in flight go in the next (a reconnect storm claims a lease for
    every socket, and gives one back as each ends)."""

    def __init__(self, url: str, prefix: str, max_connections: int = 64) -> None:
        # A pool that waits for a connection when all are busy (redis-py's default raises
        # beyond its size): the leases' pipeline and their renewal take one each.
        self.client = redis_clients.async_client(
            url, socket_timeout=10, max_connections=max_connections
        )
        self.prefix = prefix
        self.claim_script = self.client.register_script(_CLAIM)
        self.pipelines: Coalescer[_Lease, bool] = Coalescer(
            self._send, max_batch=LEASES_AT_ONCE, max_pending=1_000_000, name="confide-leases"
        )

    def key(self, user_id: int) -> str:
        return f"{self.prefix}:sockets:{user_id}"

    async def claim(self, user_id: int, channel: str, limit: int, now: float) -> bool:
        return await self.pipelines.enqueue(_Lease(user_id, channel, limit, now))

    async def release(self, user_id: int, channel: str) -> None:
        await self.pipelines.enqueue(_Lease(user_id, channel))

    async def _send(self, leases: Sequence[_Lease]) -> list[bool | BaseException]:
        """One pipeline: each claim (whether it was granted) and release, in order. Claims
        that found no script (a Redis restarted, or a Sentinel set's new primary, between
        the pipeline's check for it and its commands) are sent again once it is loaded."""
        replies = await self._pipeline(leases)
        again = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if again:
            self.claim_script.sha = await self.client.script_load(_CLAIM)
            resent = await self._pipeline([leases[i] for i in again])
            for i, reply in zip(again, resent, strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, leases: Sequence[_Lease]) -> list[bool | BaseException]:
        async with self.client.pipeline(transaction=False) as pipe:
            for lease in leases:
                key = self.key(lease.user_id)
                if lease.limit is None:
                    pipe.zrem(key, lease.channel)
                    continue
                expires = lease.now + SOCKET_LEASE_SECONDS
                args = [lease.now, lease.limit, expires, lease.channel, SOCKET_LEASE_SECONDS * 2]
                await self.claim_script(keys=[key], args=args, client=pipe)
            replies = await pipe.execute(raise_on_error=False)
        return [r if isinstance(r, BaseException) else bool(r) for r in replies]

    async def renew(self, items: list[tuple[int, str]], now: float) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for user_id, channel in items:
                pipe.zadd(self.key(user_id), {channel: now + SOCKET_LEASE_SECONDS})
                pipe.expire(self.key(user_id), SOCKET_LEASE_SECONDS * 2)
            await pipe.execute()


class _Registry:
    """The leases of one event loop's sockets, renewed together every ``RENEW_SECONDS``
    whether or not their sockets send anything."""

    def __init__(self) -> None:
        url = settings.REDIS_URL
        self.store: _LocalLeases | _RedisLeases = (
            _RedisLeases(url, settings.CONFIDE_REDIS_PREFIX) if url else _LocalLeases()
        )
        self.local: dict[str, int] = {}
        self.renewer = asyncio.get_running_loop().create_task(self._renew())

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            items = [(user_id, channel) for channel, user_id in self.local.items()]
            try:
                for i in range(0, len(items), 1000):
                    await self.store.renew(items[i : i + 1000], time.time())
            except Exception:
                log.warning("could not renew socket leases", exc_info=True)


_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Registry] = (
    weakref.WeakKeyDictionary()
)


def _registry() -> _Registry:
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        registry = _registries[loop] = _Registry()
    return registry


async def claim_socket(user_id: int, channel_name: str, limit: int) -> bool:
    """Registers a socket; False when the user already holds ``limit`` live sockets."""
    registry = _registry()
    if not await registry.store.claim(user_id, channel_name, limit, time.time()):
        return False
    registry.local[channel_name] = user_id
    return True


async def release_socket(user_id: int, channel_name: str) -> None:
    registry = _registry()
    registry.local.pop(channel_name, None)
    await registry.store.release(user_id, channel_name)


def has_live_socket(user_id: int) -> bool:
    """Whether ``user_id`` holds a live socket anywhere (any process, with Redis; this
    process, without): for jobs off the event loop, such as notifications."""
    url = settings.REDIS_URL
    if url:
        client = redis_clients.sync_client(url, socket_timeout=10)
        try:
            key = f"{settings.CONFIDE_REDIS_PREFIX}:sockets:{user_id}"
            return int(client.zcount(key, time.time(), "+inf")) > 0
        finally:
            redis_clients.close_sync(client)
    for _ in range(3):
        try:
            registries = list(_registries.values())
        except RuntimeError:  # an event loop registered meanwhile, on another thread
            continue
        return any(user_id in list(registry.local.values()) for registry in registries)
    return False
