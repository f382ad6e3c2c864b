"""The group-commit writer (messaging/batching.py): each caller gets its own result, in
order, only after its batch was stored and announced; a lost database fails that batch's callers and
no later one; too many waiting requests are refused at once; a caller who gave up is not
stored; and under load, batches grow."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence

import pytest
from django.db import OperationalError

from messaging.batching import Batcher
from protocol.errors import ErrorCode, OverloadedError, UnavailableError
from tests.waiting import until

pytestmark = pytest.mark.timeout(20)

Store = Callable[[Sequence[int]], Sequence[int | BaseException]]


class RecordingStore:
    """A store function that records each batch it is given and can be held at a gate."""

    def __init__(self, result: Callable[[int], int | BaseException] = lambda r: r * 10) -> None:
        self.result = result
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_next: BaseException | None = None
        self.delay = 0.0

    def __call__(self, requests: Sequence[int]) -> Sequence[int | BaseException]:
        self.entered.set()
        if not self.gate.wait(10):
            raise RuntimeError("the test never opened the gate")
        if self.delay:
            threading.Event().wait(self.delay)
        self.batches.append(list(requests))
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        return [self.result(r) for r in requests]

    def hold(self) -> None:
        self.gate.clear()
        self.entered.clear()

    async def until_entered(self) -> None:
        await asyncio.wait_for(asyncio.to_thread(self.entered.wait, 5), 6)


async def submit(batcher: Batcher[int, int], request: int) -> int:
    """A caller that queues one request and waits for its result."""
    return await batcher.enqueue(request)


async def test_each_caller_gets_its_own_result_in_order() -> None:
    store = RecordingStore()
    batcher: Batcher[int, int] = Batcher(store, max_batch=7)
    futures = [batcher.enqueue(n) for n in range(40)]
    assert await asyncio.gather(*futures) == [n * 10 for n in range(40)]
    # Stored in the order they were made, never more than max_batch at a time.
    assert [r for batch in store.batches for r in batch] == list(range(40))
    assert max(len(batch) for batch in store.batches) <= 7


async def test_an_exception_result_reaches_only_its_caller() -> None:
    store = RecordingStore(lambda r: ValueError(f"bad {r}") if r == 3 else r * 10)
    batcher: Batcher[int, int] = Batcher(store)
    futures = [batcher.enqueue(n) for n in range(6)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert len(store.batches) == 1  # one batch held them all
    assert isinstance(results[3], ValueError)
    assert str(results[3]) == "bad 3"
    assert [r for i, r in enumerate(results) if i != 3] == [0, 10, 20, 40, 50]


async def test_a_lost_database_fails_that_batch_only() -> None:
    store = RecordingStore()
    batcher: Batcher[int, int] = Batcher(store)
    store.fail_next = OperationalError("server closed the connection unexpectedly")
    futures = [batcher.enqueue(n) for n in range(5)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert len(store.batches) == 1
    for result in results:
        assert isinstance(result, UnavailableError)
        assert result.code == ErrorCode.UNAVAILABLE
        assert "server closed" not in result.message  # no database detail reaches a client

    assert await asyncio.gather(*(batcher.enqueue(n) for n in (7, 8))) == [70, 80]
    assert store.batches[-1] == [7, 8]


async def test_an_unexpected_failure_reaches_every_caller_of_the_batch_and_the_next_works() -> None:
    store = RecordingStore()
    batcher: Batcher[int, int] = Batcher(store)
    store.fail_next = RuntimeError("a bug")
    results = await asyncio.gather(*(batcher.enqueue(n) for n in range(3)), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError] * 3
    assert await batcher.enqueue(9) == 90


async def test_beyond_max_pending_a_request_is_refused_at_once_and_queued_ones_complete() -> None:
    store = RecordingStore()
    batcher: Batcher[int, int] = Batcher(store, max_pending=5)
    store.hold()
    running = batcher.enqueue(0)
    await store.until_entered()  # the first batch is being stored; it waits no longer
    queued = [batcher.enqueue(n) for n in range(1, 6)]
    assert batcher.pending() == 5
    with pytest.raises(OverloadedError) as refused:
        batcher.enqueue(6)
    assert refused.value.code == ErrorCode.OVERLOADED
    retry_after_ms = refused.value.data["retry_after_ms"]
    assert isinstance(retry_after_ms, int)
    assert retry_after_ms > 0
    assert batcher.pending() == 5  # the refused one takes no place

    store.gate.set()
    assert await asyncio.wait_for(asyncio.gather(running, *queued), 5) == [0, 10, 20, 30, 40, 50]
    assert 6 not in [r for batch in store.batches for r in batch]
    assert await submit(batcher, 6) == 60  # room again


async def test_a_caller_cancelled_before_its_batch_runs_is_not_stored() -> None:
    store = RecordingStore()
    batcher: Batcher[int, int] = Batcher(store)
    store.hold()
    first = asyncio.ensure_future(submit(batcher, 0))
    await store.until_entered()
    waiting = [asyncio.ensure_future(submit(batcher, n)) for n in (1, 2, 3)]
    await asyncio.sleep(0.01)  # each task is awaiting its future
    waiting[1].cancel()
    await asyncio.sleep(0)
    store.gate.set()
    results = await asyncio.wait_for(asyncio.gather(first, waiting[0], waiting[2]), 5)
    assert list(results) == [0, 10, 30]
    assert waiting[1].cancelled()
    assert store.batches == [[0], [1, 3]]
    assert sum(map(len, store.batches)) == 3


async def test_concurrent_senders_share_batches_under_load() -> None:
    store = RecordingStore()
    store.delay = 0.005  # what a commit costs
    batcher: Batcher[int, int] = Batcher(store)

    async def sender(first: int) -> list[int]:
        return [await submit(batcher, n) for n in range(first, first + 10)]

    results = await asyncio.gather(*(sender(s * 100) for s in range(40)))
    assert results == [[n * 10 for n in range(s * 100, s * 100 + 10)] for s in range(40)]
    assert sum(map(len, store.batches)) == 400
    # One request per batch would take 400 batches; 40 waiting senders share them.
    assert len(store.batches) <= 100, len(store.batches)
    assert max(len(batch) for batch in store.batches) >= 10


async def test_pending_counts_what_waits_in_this_event_loop() -> None:
    store = RecordingStore()
    batcher: Batcher[int, int] = Batcher(store)
    assert batcher.pending() == 0
    store.hold()
    running = batcher.enqueue(1)
    await store.until_entered()
    queued = batcher.enqueue(2)
    assert batcher.pending() == 1
    store.gate.set()
    await asyncio.wait_for(asyncio.gather(running, queued), 5)
    await until(lambda: batcher.pending() == 0)


async def test_a_store_returning_too_few_results_fails_its_callers_and_the_writer_goes_on() -> None:
    store = RecordingStore()
    batcher: Batcher[int, int] = Batcher(store)
    broken: Store = lambda requests: [r * 10 for r in requests][:-1]  # noqa: E731
    batcher.store = broken
    results = await asyncio.wait_for(
        asyncio.gather(*(batcher.enqueue(n) for n in range(3)), return_exceptions=True), 5
    )
    assert [type(r) for r in results] == [RuntimeError] * 3
    batcher.store = store
    assert await asyncio.wait_for(submit(batcher, 4), 5) == 40


async def test_a_committed_batch_is_announced_before_any_caller_hears_of_it() -> None:
    store = RecordingStore(lambda r: ValueError("refused") if r == 2 else r * 10)
    heard: list[list[object]] = []
    callers_done_when_announced: list[bool] = []
    futures: list[asyncio.Future[int]] = []

    async def committed(results: Sequence[int | BaseException]) -> None:
        callers_done_when_announced.append(any(f.done() for f in futures))
        heard.append([r if isinstance(r, int) else type(r).__name__ for r in results])

    batcher: Batcher[int, int] = Batcher(store, committed=committed)
    futures.extend(batcher.enqueue(n) for n in range(4))
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert heard == [[0, 10, "ValueError", 30]]
    assert callers_done_when_announced == [False]
    assert [r if isinstance(r, int) else "error" for r in results] == [0, 10, "error", 30]


async def test_a_failed_announcement_changes_no_result() -> None:
    store = RecordingStore()

    async def committed(results: Sequence[int | BaseException]) -> None:
        raise RuntimeError("the layer is down")

    batcher: Batcher[int, int] = Batcher(store, committed=committed)
    assert await asyncio.gather(*(batcher.enqueue(n) for n in range(3))) == [0, 10, 20]


async def test_a_failed_batch_is_not_announced() -> None:
    store = RecordingStore()
    store.fail_next = OperationalError("gone")
    announced: list[int] = []

    async def committed(results: Sequence[int | BaseException]) -> None:
        announced.append(len(results))

    batcher: Batcher[int, int] = Batcher(store, committed=committed)
    results = await asyncio.gather(batcher.enqueue(1), return_exceptions=True)
    assert isinstance(results[0], UnavailableError)
    assert announced == []
