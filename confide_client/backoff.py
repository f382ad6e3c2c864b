"""Reconnect delays: exponential, bounded, with random jitter.

Jitter spreads the reconnects of many clients after a server restart, so they do not all
knock at once; the bound keeps a client that was offline for long from waiting minutes
after the server is back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

__all__ = ["Backoff"]

_random = secrets.SystemRandom()


@dataclass(slots=True)
class Backoff:
    """``initial * factor ** n`` seconds, capped at ``maximum``, times a random factor in
    ``[1 - jitter, 1]`` (so a delay is never above the cap)."""

    initial: float = 0.25
    maximum: float = 10.0
    factor: float = 2.0
    jitter: float = 0.5
    attempts: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("The backoff needs 0 < initial <= maximum")
        if self.factor < 1:
            raise ValueError("The backoff factor must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("The backoff jitter must be between 0 and 1")

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one attempt."""
        ceiling = min(self.maximum, self.initial * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        return ceiling * (1 - self.jitter * _random.random())

    def reset(self) -> None:
        """Starts again from ``initial`` (after a connection that worked)."""
        self.attempts = 0
