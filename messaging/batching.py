"""Group commit: the sends of every socket of a process, stored a batch per transaction.

Channels runs every synchronous database call of a process on one shared thread, one
call at a time, so a message per transaction caps a process at a few hundred messages per
second however many sockets send. A ``Batcher`` queues requests from any number of
coroutines and hands them, as they accumulate, to one function that stores the whole
batch in one transaction on a database thread of its own (its own connection, so reads on
the shared thread never wait behind writes). Under light load a batch is one request and
waits for nothing; under heavy load batches grow, and the cost of a commit is shared.

Each request's future gets its own result (or exception) only after the batch committed,
so an acknowledgement always means the message is stored; ``committed``, when given, hears
of each batch's results first (to announce what was stored). When more requests wait than
``max_pending``, ``enqueue`` refuses at once with ``OverloadedError``: the sender is told
to retry later, and the server's memory stays bounded.

Reads can be batched the same way: a reconnect storm's ``sync`` frames are read a batch
per trip, on a thread and connection of their own (``messaging/services/messages.py``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from django.db import InterfaceError, OperationalError, connection
from prometheus_client import Histogram

from messaging.metrics import WRITE_BATCH_SIZE
from protocol.errors import OverloadedError, UnavailableError

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Res = TypeVar("Res")


class Batcher(Generic[Req, Res]):
    """See the module's docstring. ``store`` maps a batch of requests to one result per
    request, in order; a result that is an exception is raised to that request's caller.
    ``committed`` runs on the event loop after each batch that ``store`` returned from,
    before any caller hears of it; its failure is logged and changes no result."""

    def __init__(
        self,
        store: Callable[[Sequence[Req]], Sequence[Res | BaseException]],
        *,
        committed: Callable[[Sequence[Res | BaseException]], Awaitable[None]] | None = None,
        max_batch: int = 256,
        max_pending: int = 5000,
        name: str = "confide-writer",
        sizes: Histogram = WRITE_BATCH_SIZE,
        busy: str = "The server is busy; nothing was stored. Retry shortly.",
        checked: bool = False,
    ) -> None:
        self.store = store
        self.committed = committed
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.name = name
        self.sizes = sizes
        self.busy = busy
        self.checked = checked
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue[Req, Res]]
        self._queues = weakref.WeakKeyDictionary()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=name)

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

    def _run_batch(self, requests: Sequence[Req]) -> Sequence[Res | BaseException]:
        """Runs in the batcher's thread, on that thread's own connection, which is kept
        between batches unless it failed. A ``checked`` batcher's connection is checked
        before each batch as Django checks one before a request's first query (a
        connection the database dropped is replaced, not failed); the writer's is not (no
        health-check query per batch: a batch on a dropped connection is refused as
        ``unavailable``, and its senders resend)."""
        if self.checked:
            connection.close_if_unusable_or_obsolete()
        try:
            return self.store(requests)
        except (OperationalError, InterfaceError):
            connection.close()  # the next batch connects afresh
            raise
        finally:
            if connection.settings_dict.get("CONN_MAX_AGE") == 0:
                connection.close()


class _LoopQueue(Generic[Req, Res]):
    """The requests waiting in one event loop, and the task that drains them."""

    def __init__(self, batcher: Batcher[Req, Res], loop: asyncio.AbstractEventLoop) -> None:
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
                    results = await self.loop.run_in_executor(
                        batcher._executor, batcher._run_batch, [r for r, _ in live]
                    )
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
