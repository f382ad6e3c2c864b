"""The channel layer: process-local delivery, Redis publish/subscribe between processes.

Channels' Redis layer stores every group message in Redis and pulls it back out, two to
three round trips per ``group_send`` and per receive, and its in-memory layer walks every
channel on every send; both cap a process at a few hundred events per second (figures in
docs/performance.md). This layer keeps the Channels layer interface (``send``,
``receive``, ``new_channel``, ``group_add``, ``group_discard``, ``group_send``, ``flush``)
and changes where the work happens:

- Each process keeps its own channels as bounded in-memory queues and its own group
  members, so an event for a socket of the same process never leaves the process.
- With ``url`` set, each process subscribes (Redis SUBSCRIBE) to one Redis channel per
  group that has a member here, and ``group_send`` publishes once to it; ``group_send_many``
  sends a whole batch in one pipeline.
- A group message may name one channel not to deliver it to (its ``EXCEPT`` key): the
  socket that sent a message, whose ack already says all the push would.
- Delivery stays at most once, as with every Channels layer. What is lost is made
  visible instead of silent: a channel whose queue overflows, and every channel of a
  process whose subscription connection broke (so it may have missed publications), get
  one ``layer.reset`` event. The consumer answers it by closing the socket with 1012; the
  client reconnects and backfills from the database, which is the source of truth.

Configuration (``CHANNEL_LAYERS["default"]["CONFIG"]``): ``url`` (Redis; empty for one
process), ``prefix``, ``capacity`` (queued events per channel, default 100) and
``max_bytes`` (queued bytes of encoded frames per channel, default 2 MiB).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import weakref
from collections.abc import Iterable
from typing import Any

import msgpack  # type: ignore[import-untyped]
from channels.layers import BaseChannelLayer

from messaging import redis_clients
from messaging.metrics import LAYER_RESETS

log = logging.getLogger(__name__)

RESET = {"type": "layer.reset"}
# The key of a group message naming the one channel of the group it is not for.
EXCEPT = "__except__"
_RECONNECT_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0)
_POLL_SECONDS = 0.5
_MAX_OUTBOX = 20000  # publications waiting for Redis; older ones are dropped (and reset)


def _database_of(url: str) -> int:
    """The database number of a redis:// URL (its path) or of a Sentinel set's
    (``/service/db``), 0 when it names none."""
    from urllib.parse import urlsplit

    sentinels = redis_clients.sentinel_set(url)
    if sentinels is not None:
        return sentinels.db
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def _raise_if_cancelled() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _size(message: dict[str, Any]) -> int:
    text = message.get("text")
    return len(text) if isinstance(text, str) else 0


class _Channel:
    """One process-local channel: a queue bounded in events and in bytes of encoded frames,
    and whether it has lost anything."""

    __slots__ = ("queue", "groups", "overflowed", "bytes", "max_bytes")

    def __init__(self, capacity: int, max_bytes: int) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=capacity)
        self.groups: set[str] = set()
        self.overflowed = False
        self.bytes = 0
        self.max_bytes = max_bytes

    def put(self, message: dict[str, Any]) -> None:
        if self.overflowed:
            return
        size = _size(message)
        if self.bytes + size <= self.max_bytes or self.queue.empty():
            try:
                self.queue.put_nowait(message)
                self.bytes += size
                return
            except asyncio.QueueFull:
                pass
        # Drop what is queued (the client backfills it) and say so, once.
        self.overflowed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.bytes = 0
        self.queue.put_nowait(RESET)
        LAYER_RESETS.labels(reason="queue_full").inc()

    async def get(self) -> dict[str, Any]:
        message = await self.queue.get()
        self.bytes = max(0, self.bytes - _size(message))
        return message


class _Redis:
    """The Redis side of one event loop: a publishing client and a subscription reader."""

    def __init__(self, layer: FanoutChannelLayer) -> None:
        self.layer = layer
        self.client = redis_clients.async_client(layer.url, socket_timeout=10, max_connections=64)
        self.pubsub: Any = None
        self.subscribed: set[str] = set()
        self.ready = asyncio.Event()
        self.lock = asyncio.Lock()
        self.reader = asyncio.get_running_loop().create_task(self._read())
        self.unsent: set[str] = set()
        self.outbox: list[tuple[str, bytes]] = []
        self.flusher: asyncio.Task[None] | None = None

    async def _connect(self) -> None:
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        names = {self.layer.process_topic, *self.subscribed}
        await self.pubsub.subscribe(*names)
        # Groups joined or left meanwhile (``subscribe`` and ``unsubscribe`` leave them to
        # this until ``ready``): nothing is awaited between the last check and
        # ``ready.set()``, so none is missed.
        while (wanted := {self.layer.process_topic, *self.subscribed}) != names:
            if joined := wanted - names:
                await self.pubsub.subscribe(*joined)
            if left := names - wanted:
                await self.pubsub.unsubscribe(*left)
            names = wanted
        self.ready.set()

    async def _read(self) -> None:
        attempt = 0
        first = True
        while True:
            try:
                async with self.lock:
                    await self._connect()
                _raise_if_cancelled()
                if not first:
                    # Publications may have been missed while the connection was down.
                    LAYER_RESETS.labels(reason="redis_lost").inc()
                    self.layer.reset_all()
                first = False
                attempt = 0
                while True:
                    # A bounded wait, and a look at whether the task was told to stop:
                    # Python 3.11's wait_for, inside redis-py, can swallow a cancellation.
                    message = await self.pubsub.get_message(timeout=_POLL_SECONDS)
                    _raise_if_cancelled()
                    if message is not None and message.get("type") == "message":
                        self.layer.deliver_published(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.ready.clear()
                log.warning("channel layer subscription lost: %s", type(exc).__name__)
                with contextlib.suppress(Exception):
                    await self.pubsub.aclose()
                await asyncio.sleep(_RECONNECT_DELAYS[min(attempt, len(_RECONNECT_DELAYS) - 1)])
                attempt += 1

    async def subscribe(self, topic: str) -> None:
        self.subscribed.add(topic)
        if self.ready.is_set():
            async with self.lock:
                with contextlib.suppress(Exception):
                    await self.pubsub.subscribe(topic)

    async def unsubscribe(self, topic: str) -> None:
        self.subscribed.discard(topic)
        if self.ready.is_set():
            async with self.lock:
                with contextlib.suppress(Exception):
                    await self.pubsub.unsubscribe(topic)

    def publish(self, items: list[tuple[str, bytes]]) -> None:
        """Queues each (topic, payload) for the next pipeline. One pipeline carries every
        publication queued while the previous one ran, so its cost is shared. Topics whose
        publication was dropped (Redis unreachable, or too many waiting) get a reset first
        once Redis answers again."""
        self.outbox.extend(items)
        if len(self.outbox) > _MAX_OUTBOX:
            dropped = self.outbox[: len(self.outbox) - _MAX_OUTBOX]
            del self.outbox[: len(dropped)]
            self.unsent.update(topic for topic, _ in dropped)
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        attempt = 0
        # Goes on while resets are owed, even if nothing more is published: the other
        # processes must hear of a dropped publication once Redis answers again.
        while self.outbox or self.unsent:
            items, self.outbox = self.outbox, []
            resets = list(self.unsent)
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    for topic in resets:
                        pipe.publish(topic, self.layer.pack(RESET))
                    for topic, payload in items:
                        pipe.publish(topic, payload)
                    await pipe.execute()
                self.unsent.difference_update(resets)
                if resets:
                    LAYER_RESETS.labels(reason="publish_dropped").inc(len(resets))
                attempt = 0
            except Exception as exc:
                _raise_if_cancelled()
                log.warning("channel layer publish failed: %s", type(exc).__name__)
                self.unsent.update(topic for topic, _ in items)
                await asyncio.sleep(_RECONNECT_DELAYS[min(attempt, len(_RECONNECT_DELAYS) - 1)])
                attempt += 1

    async def drained(self, timeout: float) -> bool:
        """Waits until Redis has every publication queued so far (at most ``timeout``
        seconds); whether it has."""
        flusher = self.flusher
        if flusher is None or flusher.done():
            return not self.outbox and not self.unsent
        try:
            await asyncio.wait_for(asyncio.shield(flusher), timeout)
        except TimeoutError:
            return False
        return not self.outbox and not self.unsent

    async def close(self) -> None:
        for task in (self.reader, self.flusher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        with contextlib.suppress(Exception):
            if self.pubsub is not None:
                await self.pubsub.aclose()
        await self.client.aclose()


class FanoutChannelLayer(BaseChannelLayer):  # type: ignore[misc]
    """See the module's docstring."""

    extensions = ["groups", "flush"]

    def __init__(
        self,
        url: str = "",
        prefix: str = "confide",
        capacity: int = 100,
        max_bytes: int = 2 * 1024 * 1024,
        **kwargs: Any,
    ) -> None:
        super().__init__(capacity=capacity, **kwargs)
        self.url = url
        self.max_bytes = max_bytes
        # Redis publish/subscribe ignores the database number: it goes into the names, so
        # deployments on different databases of one Redis never hear each other.
        self.prefix = f"{prefix}.{_database_of(url)}" if url else prefix
        self.process = secrets.token_hex(6)
        self.process_id = self.process.encode()
        self.process_topic = f"{self.prefix}:p:{self.process}"
        self.channels: dict[str, _Channel] = {}
        self.groups: dict[str, set[str]] = {}
        self._redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Redis] = (
            weakref.WeakKeyDictionary()
        )

    # --- names -------------------------------------------------------------------------

    def _group_topic(self, group: str) -> str:
        return f"{self.prefix}:g:{group}"

    def _is_local(self, channel: str) -> bool:
        return channel.startswith(f"{self.prefix}.{self.process}!")

    async def new_channel(self, prefix: str = "specific") -> str:
        name = f"{self.prefix}.{self.process}!{secrets.token_hex(8)}"
        self.channels[name] = _Channel(self.capacity, self.max_bytes)
        return name

    # --- Redis ---------------------------------------------------------------------------

    def _redis_for_loop(self) -> _Redis | None:
        if not self.url:
            return None
        loop = asyncio.get_running_loop()
        redis = self._redis.get(loop)
        if redis is None:
            redis = self._redis[loop] = _Redis(self)
        return redis

    def pack(self, message: dict[str, Any]) -> bytes:
        """The process's id, then the message: a process skips its own publications
        (delivered locally when sent) without decoding them."""
        packed: bytes = msgpack.packb(message, use_bin_type=True)
        return self.process_id + packed

    def deliver_published(self, topic: bytes, data: bytes) -> None:
        if data[: len(self.process_id)] == self.process_id:
            return
        message = msgpack.unpackb(data[len(self.process_id) :], raw=False)
        name = topic.decode()
        if name == self.process_topic:
            channel = self.channels.get(message.pop("__channel__", ""))
            if channel is not None:
                channel.put(message)
            return
        group = name.split(":g:", 1)[1]
        self._deliver_to_group(group, message)

    def reset_all(self) -> None:
        for channel in self.channels.values():
            channel.put(RESET)

    # --- the layer interface -------------------------------------------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if not isinstance(message, dict):
            raise TypeError("message is not a dict")
        self.require_valid_channel_name(channel)
        if self._is_local(channel):
            local = self.channels.get(channel)
            if local is not None:
                local.put(message)
            return
        redis = self._redis_for_loop()
        if redis is None:
            return
        process = channel.split("!", 1)[0].rsplit(".", 1)[-1]
        topic = f"{self.prefix}:p:{process}"
        redis.publish([(topic, self.pack({**message, "__channel__": channel}))])

    async def receive(self, channel: str) -> dict[str, Any]:
        self.require_valid_channel_name(channel)
        local = self.channels.get(channel)
        if local is None:
            local = self.channels[channel] = _Channel(self.capacity, self.max_bytes)
        self._redis_for_loop()
        try:
            message = await local.get()
        except asyncio.CancelledError:
            await self._forget(channel)
            raise
        if message.get("type") == RESET["type"]:
            local.overflowed = False
            return dict(RESET)
        return message

    async def _forget(self, channel: str) -> None:
        local = self.channels.pop(channel, None)
        if local is not None:
            for group in list(local.groups):
                await self.group_discard(group, channel)

    async def group_add(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        members = self.groups.setdefault(group, set())
        first = not members
        members.add(channel)
        local = self.channels.get(channel)
        if local is not None:
            local.groups.add(group)
        redis = self._redis_for_loop()
        if first and redis is not None:
            await redis.subscribe(self._group_topic(group))

    async def group_discard(self, group: str, channel: str) -> None:
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        members = self.groups.get(group)
        if not members:
            return
        members.discard(channel)
        local = self.channels.get(channel)
        if local is not None:
            local.groups.discard(group)
        if not members:
            del self.groups[group]
            redis = self._redis_for_loop()
            if redis is not None:
                await redis.unsubscribe(self._group_topic(group))

    def _deliver_to_group(self, group: str, message: dict[str, Any]) -> None:
        skip = message.get(EXCEPT)
        for name in self.groups.get(group, ()):
            if name == skip:
                continue
            local = self.channels.get(name)
            if local is not None:
                local.put(message)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self.group_send_many([(group, message)])

    async def group_send_many(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Sends each (group, message): to this process's members at once, to other
        processes with the next pipeline. Never waits for Redis: a publication that cannot
        be made is followed by a reset of its group (see ``_Redis.publish``)."""
        published = []
        for group, message in items:
            if not isinstance(message, dict):
                raise TypeError("message is not a dict")
            self.require_valid_group_name(group)
            self._deliver_to_group(group, message)
            if self.url:
                topic = self._group_topic(group)
                published.append((topic, self.pack(message)))
        redis = self._redis_for_loop()
        if redis is not None and published:
            redis.publish(published)

    async def group_send_waiting(
        self, items: Iterable[tuple[str, dict[str, Any]]], timeout: float = 5.0
    ) -> bool:
        """``group_send_many``, then waits (at most ``timeout`` seconds) until Redis has the
        publications; whether it has.

        For the few events sent from an event loop that may end right after: a management
        command's, which ``async_to_sync`` makes and tears down, would take a publication
        still queued in its flusher down with it. A loop that holds no subscription (no
        socket of this process listens on it) gives its Redis connections back after."""
        await self.group_send_many(items)
        loop = asyncio.get_running_loop()
        redis = self._redis.get(loop)
        if redis is None:
            return True
        sent = await redis.drained(timeout)
        if not redis.subscribed:
            del self._redis[loop]
            await redis.close()
        return sent

    async def flush(self) -> None:
        self.channels.clear()
        self.groups.clear()

    async def close(self) -> None:
        for redis in list(self._redis.values()):
            await redis.close()
        self._redis.clear()
