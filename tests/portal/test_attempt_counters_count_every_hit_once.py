"""The cache counters behind the sign-in limits count each hit exactly once, even when
many threads hit one counter at the same moment, on the in-memory cache and on Redis; a
counter forgets its hits when its window ends and never outlives it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from accounts.counters import give_back, hit

THREADS = 8
HITS_EACH = 50


@pytest.fixture
def memory() -> BaseCache:
    return LocMemCache(f"counters-{uuid.uuid4()}", {})


@pytest.fixture
def redis(redis_url: str) -> Iterator[RedisCache]:
    prefix = f"confide-test-counters-{uuid.uuid4().hex}"
    store = RedisCache(redis_url, {"KEY_PREFIX": prefix})
    yield store
    client = store._cache.get_client(None, write=True)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    store.close()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> BaseCache:
    found: BaseCache = request.getfixturevalue(request.param)
    return found


def _hit_together(store: BaseCache, key: str) -> list[int]:
    """Every thread hits the counter ``HITS_EACH`` times, all starting at once."""
    start = threading.Barrier(THREADS)
    seen: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait(timeout=10)
        mine = [hit(key, 60, store=store) for _ in range(HITS_EACH)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return seen


def test_concurrent_hits_each_get_their_own_count(store: BaseCache) -> None:
    seen = _hit_together(store, "confide:test:together")

    # Each hit saw a different count: no two read the same value and wrote back the same.
    assert sorted(seen) == list(range(1, THREADS * HITS_EACH + 1))
    assert store.get("confide:test:together") == THREADS * HITS_EACH


def test_a_counter_starts_over_when_its_window_ends(store: BaseCache) -> None:
    assert [hit("confide:test:window", 1, store=store) for _ in range(3)] == [1, 2, 3]
    time.sleep(1.2)
    assert hit("confide:test:window", 1, store=store) == 1


def test_a_given_back_hit_is_no_longer_counted(store: BaseCache) -> None:
    for _ in range(3):
        hit("confide:test:back", 60, store=store)
    give_back("confide:test:back", store=store)
    assert hit("confide:test:back", 60, store=store) == 3


def test_giving_back_a_counter_that_expired_leaves_nothing_behind(store: BaseCache) -> None:
    give_back("confide:test:gone", store=store)
    assert store.get("confide:test:gone") is None
    assert hit("confide:test:gone", 60, store=store) == 1


class ExpiresBetweenCheckAndIncrement(RedisCache):
    """Redis as Django drives it when the key expires between ``EXISTS`` and ``INCR``:
    ``INCR`` then makes a new key without any expiry."""

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        raw = self.make_and_validate_key(key, version=version)
        client = self._cache.get_client(raw, write=True)
        client.delete(raw)
        return int(client.incr(raw, delta))

    def decr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self.incr(key, -delta, version)


def test_a_counter_remade_by_redis_without_expiry_gets_one(redis_url: str) -> None:
    prefix = f"confide-test-counters-{uuid.uuid4().hex}"
    store = ExpiresBetweenCheckAndIncrement(redis_url, {"KEY_PREFIX": prefix})
    client = store._cache.get_client(None, write=True)
    try:
        assert hit("confide:test:race", 60, store=store) == 1
        ttl = client.ttl(store.make_and_validate_key("confide:test:race"))
        assert 0 < ttl <= 60

        give_back("confide:test:race", store=store)
        # A negative count without expiry would grant attempts forever: it is removed.
        assert client.exists(store.make_and_validate_key("confide:test:race")) == 0
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        store.close()
