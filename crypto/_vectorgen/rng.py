"""Deterministic substitutes for ``crypto._random.random_bytes``, for vectors and tests only.

Warning: everything made while one of these is active is predictable by anyone.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Sequence

from .. import _random
from ..errors import CryptoError

_SEED_PREFIX = b"confide/v1/test-vectors/"


class DeterministicRandom:
    """BLAKE2b in counter mode, keyed by a hash of a label; records what it hands out."""

    def __init__(self, label: str) -> None:
        self._key = hashlib.blake2b(_SEED_PREFIX + label.encode("ascii"), digest_size=32).digest()
        self._calls = 0
        self.drawn: list[bytes] = []

    def __call__(self, n: int) -> bytes:
        stream = b""
        block = 0
        while len(stream) < n:
            counter = self._calls.to_bytes(8, "big") + block.to_bytes(8, "big")
            stream += hashlib.blake2b(counter, key=self._key, digest_size=64).digest()
            block += 1
        self._calls += 1
        output = stream[:n]
        self.drawn.append(output)
        return output


@contextlib.contextmanager
def _substitute(source: Callable[[int], bytes]) -> Iterator[None]:
    original = _random.random_bytes
    _random.random_bytes = source  # type: ignore[assignment]  # the deliberate substitution
    try:
        yield
    finally:
        _random.random_bytes = original


@contextlib.contextmanager
def deterministic_random(label: str) -> Iterator[DeterministicRandom]:
    """Within the block, every random byte in the package comes from ``label``'s stream."""
    source = DeterministicRandom(label)
    with _substitute(source):
        yield source


class ReplayError(CryptoError):
    """The code under test drew randomness differently from what a vector recorded."""


@contextlib.contextmanager
def replay_random(values: Sequence[bytes]) -> Iterator[None]:
    """Within the block, hand out exactly ``values`` in order; fail on any difference."""
    pending = list(values)

    def source(n: int) -> bytes:
        if not pending:
            raise ReplayError(f"{n} random bytes were requested, but none were recorded")
        value = pending.pop(0)
        if len(value) != n:
            raise ReplayError(f"{n} random bytes were requested, but {len(value)} were recorded")
        return value

    with _substitute(source):
        yield
    if pending:
        raise ReplayError(f"{len(pending)} recorded random values were not used")
