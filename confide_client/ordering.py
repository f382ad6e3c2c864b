"""Per-conversation ordering: deduplicate by sequence number and release in order.

Messages reach a client by three paths (live pushes, ``sync`` and ``history`` replies) that
overlap and may arrive out of order, and the server's push path may drop some. Sequence
numbers of a conversation have no gaps (1, 2, 3, ...), so a client shows message ``n + 1``
only after ``n``, ignores a number it already holds, and treats a number that skips ahead
as a sign that something was lost and must be fetched with ``sync``.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["SequenceBuffer"]

T = TypeVar("T")

# A hostile or broken server could push ever higher sequence numbers; a client holds at
# most this many messages ahead of a gap and drops the rest (a later sync brings them).
MAX_AHEAD = 10_000


class SequenceBuffer(Generic[T]):
    """The ordering state of one conversation.

    ``position`` is the highest sequence number released so far (0: none). Items with a
    higher number wait in the buffer until every number below them has been released.
    """

    __slots__ = ("_ahead", "_position")

    def __init__(self, position: int = 0) -> None:
        if position < 0:
            raise ValueError(f"A sequence position cannot be negative ({position})")
        self._position = position
        self._ahead: dict[int, T] = {}

    @property
    def position(self) -> int:
        """The highest sequence number released (held) so far."""
        return self._position

    @property
    def has_gap(self) -> bool:
        """Whether some item waits for a lower number that has not arrived."""
        return bool(self._ahead)

    @property
    def waiting(self) -> int:
        """How many items wait behind a gap."""
        return len(self._ahead)

    def offer(self, seq: int, item: T) -> list[T]:
        """Takes one item; returns the items now releasable, in sequence order.

        A number already released, or already waiting, is ignored (a duplicate).
        """
        if seq <= self._position or seq in self._ahead:
            return []
        if seq > self._position + MAX_AHEAD:
            return []
        self._ahead[seq] = item
        return self._release()

    def _release(self) -> list[T]:
        released: list[T] = []
        while self._position + 1 in self._ahead:
            self._position += 1
            released.append(self._ahead.pop(self._position))
        return released

    def skip_to(self, seq: int) -> list[T]:
        """Moves the position forward to ``seq`` (nothing older is wanted).

        Items waiting at or below ``seq`` are dropped; those that then follow without a
        gap are returned, in order. A ``seq`` at or below the position changes nothing.
        """
        if seq <= self._position:
            return []
        self._position = seq
        self._ahead = {n: item for n, item in self._ahead.items() if n > seq}
        return self._release()
