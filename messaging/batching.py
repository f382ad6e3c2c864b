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
The queue itself is a ``Coalescer`` (``messaging/coalescing.py``), which the sockets'
leases use too, a Redis pipeline at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from django.db import InterfaceError, OperationalError, connection
from prometheus_client import Histogram

from messaging.coalescing import Coalescer, Req, Res
from messaging.metrics import WRITE_BATCH_SIZE


class Batcher(Coalescer[Req, Res]):
    """See the module's docstring: a ``Coalescer`` whose batches run, one at a time, in a
    thread of its own with its own database connection. ``store`` maps a batch of
    requests to one result per request, in order."""

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
        super().__init__(
            self._in_thread,
            committed=committed,
            max_batch=max_batch,
            max_pending=max_pending,
            name=name,
            sizes=sizes,
            busy=busy,
        )
        self.store = store
        self.checked = checked
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=name)

    async def _in_thread(self, requests: Sequence[Req]) -> Sequence[Res | BaseException]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run_batch, requests)

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
