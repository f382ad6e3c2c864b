"""Requests of many coroutines, handed to one coroutine function a batch at a time.

A reconnect storm asks the same of the database and of Redis for thousands of sockets at
once: each answered alone, the round trips and their per-call costs were most of it. A
``Coalescer`` queues each request with a future for its own result, and runs the function
on every request that arrived while the batch before ran (``messaging/batching.py``: the
message writer and the sync reader, on threads with their own database connections;
``messaging/limits.py``: the sockets' leases, a Redis pipeline at a time).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from django.db import InterfaceError, OperationalError
from prometheus_client import Histogram

from protocol.errors import OverloadedError, UnavailableError

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Res = TypeVar("Res")


class Coalescer(Generic[Req, Res]):
    """Requests of any number of coroutines, handed to one coroutine function ``run`` a
    batch at a time: those that arrive while a batch runs make the next batch (up to
    ``max_batch``), so under light load a batch is one request and waits for nothing.
    ``run`` maps a batch to one result per request, in order; a result that is an
    exception is raised to that request's caller. ``committed`` runs on the event loop
    after each batch that ``run`` returned from, before any caller hears of it; its
    failure is logged and changes no result. ``sizes``, when given, hears each batch's
    size."""

    def __init__(
        self,
        run: Callable[[Sequence[Req]], Awaitable[Sequence[Res | BaseException]]],
        *,
        committed: Callable[[Sequence[Res | BaseException]], Awaitable[None]] | None = None,
        max_batch: int = 256,
        max_pending: int = 5000,
        name: str,
        sizes: Histogram | None = None,
        busy: str = "The server is busy. Retry shortly.",
    ) -> None:
        self.run = run
        self.committed = committed
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.name = name
        self.sizes = sizes
        self.busy = busy
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue[Req, Res]]
        self._queues = weakref.WeakKeyDictionary()

    def pending(self) -> int:
        queue = self._queues.get(asyncio.get_running_loop())
        return 0 if queue is None else len(queue.items)

    def enqueue(self, request: Req) -> asyncio.Future[Res]:
        """Queues the request at once (so requests keep the order they were made in) and
        returns the future of its result; raises ``OverloadedError`` when too many wait."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _LoopQueue(self, loop)
        if len(queue.items) >= self.max_pending:
            raise OverloadedError(self.busy, retry_after_ms=500)
        future: asyncio.Future[Res] = loop.create_future()
        queue.items.append((request, future))
        queue.wake.set()
        return future


class _LoopQueue(Generic[Req, Res]):
    """The requests waiting in one event loop, and the task that drains them."""

    def __init__(self, batcher: Coalescer[Req, Res], loop: asyncio.AbstractEventLoop) -> None:
        self.batcher = batcher
        self.loop = loop
        self.items: list[tuple[Req, asyncio.Future[Res]]] = []
        self.wake = asyncio.Event()
        self.task = loop.create_task(self._drain(), name=batcher.name)

    async def _drain(self) -> None:
        batcher = self.batcher
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.items:
                batch = self.items[: batcher.max_batch]
                del self.items[: batcher.max_batch]
                live = [(r, f) for r, f in batch if not f.done()]
                if not live:
                    continue
                try:
                    results = await batcher.run([r for r, _ in live])
                    if len(results) != len(live):  # else the drain would die, callers hang
                        raise RuntimeError(f"{len(results)} results for {len(live)} requests")
                except (OperationalError, InterfaceError) as exc:
                    log.warning("database unavailable: %s", type(exc).__name__)
                    for _, future in live:
                        if not future.done():
                            future.set_exception(
                                UnavailableError("The database is unavailable; nothing was stored.")
                            )
                    continue
                except BaseException as exc:  # noqa: BLE001 - every caller must hear of it
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    log.exception("%s: a batch failed", batcher.name)
                    for _, future in live:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                if batcher.sizes is not None:
                    batcher.sizes.observe(len(live))
                if batcher.committed is not None:
                    try:
                        await batcher.committed(results)
                    except Exception:
                        log.exception("announcing a stored batch failed")
                for (_, future), result in zip(live, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
