"""Per-socket rate limiting and the per-user socket limit."""

from __future__ import annotations

import time

from django.core.cache import cache

# A socket that has not sent a frame (clients ping every 25 s) for this long no
# longer counts toward its user's limit, so a crashed process frees its slots.
SOCKET_LEASE_SECONDS = 90


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


def _key(user_id: int) -> str:
    return f"confide:sockets:{user_id}"


def _live(leases: dict[str, float], now: float) -> dict[str, float]:
    return {name: expiry for name, expiry in leases.items() if expiry > now}


async def claim_socket(user_id: int, channel_name: str, limit: int) -> bool:
    """Registers a socket; False when the user already holds ``limit`` live sockets.

    A soft limit: two processes admitting the same user at the same instant may
    let one socket too many in, which the next claim corrects.
    """
    now = time.time()
    leases = _live(await cache.aget(_key(user_id), {}), now)
    if len(leases) >= limit:
        return False
    leases[channel_name] = now + SOCKET_LEASE_SECONDS
    await cache.aset(_key(user_id), leases, SOCKET_LEASE_SECONDS * 2)
    return True


async def renew_socket(user_id: int, channel_name: str) -> None:
    now = time.time()
    leases = _live(await cache.aget(_key(user_id), {}), now)
    leases[channel_name] = now + SOCKET_LEASE_SECONDS
    await cache.aset(_key(user_id), leases, SOCKET_LEASE_SECONDS * 2)


async def release_socket(user_id: int, channel_name: str) -> None:
    leases = _live(await cache.aget(_key(user_id), {}), time.time())
    leases.pop(channel_name, None)
    await cache.aset(_key(user_id), leases, SOCKET_LEASE_SECONDS * 2)
