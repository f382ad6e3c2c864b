"""Counters in the cache that many processes share: sign-in attempts and the like.

A count is taken and compared in one step (``hit`` returns the new value), so requests
arriving at the same moment each see their own number and no more than the limit get
through. Only the cache's atomic operations are used (``add`` and ``incr``), which hold
on the in-memory cache (one lock) and on Redis (``SET NX`` and ``INCR``).
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache

# A counter that expires or is evicted between ``add`` and ``incr`` is made again; after
# this many tries in a row (a cache under heavy eviction) the hit is stored as the first.
_TRIES = 3


def hit(key: str, window_s: int, *, store: BaseCache | None = None) -> int:
    """Adds one to the counter ``key`` and returns its new value.

    The counter lives ``window_s`` seconds from its first hit, then starts over.
    """
    store = cache if store is None else store
    for _ in range(_TRIES):
        store.add(key, 0, window_s)
        try:
            count = int(store.incr(key))
        except ValueError:  # expired or evicted since the add
            continue
        if count == 1:
            # The window starts now. This also gives an expiry to a counter that Redis's
            # INCR made anew (without one) when the old counter expired between Django's
            # EXISTS and INCR; left so, it would count forever.
            store.touch(key, window_s)
        return count
    store.set(key, 1, window_s)
    return 1


def give_back(key: str, *, store: BaseCache | None = None) -> None:
    """Takes one hit back (an attempt that turned out not to count)."""
    store = cache if store is None else store
    try:
        count = int(store.decr(key))
    except ValueError:  # the window has ended: nothing to take back
        return
    if count < 0:
        # The counter expired between Django's EXISTS and DECR, which made a new one,
        # without expiry, below zero: it would grant extra attempts forever.
        store.delete(key)
