"""What a conversation's held messages say about their own order (crypto/SPEC.md, "Order").

The server numbers a conversation's messages; nothing it signs says that the numbers are
honest. A version-2 message carries its sender's own order, signed: the sending session
(``chain``), that session's counter, the sender's clock, and the reference of the newest
message the sender held. :func:`check_order` reads the messages a client holds, in the
server's order, and reports what that order hides:

- ``missing``: a session's counter skips (``first`` to ``last`` never arrived, written
  between ``after`` and ``before`` by the sender's clock);
- ``out_of_order``: a message written before one the server numbered ahead of it;
- ``repeated``: a second, different message in one session's place;
- ``unseen``: a message that answers one the reader never received.

A message withheld at the very end of a session, with nothing after it that names it, is
not detectable until the session sends again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ._fields import require_length, require_type
from ._primitives import HASH_SIZE
from .errors import FormatError
from .message import MessageOrder

__all__ = ["NOTICE_KINDS", "OrderEntry", "OrderNotice", "check_order"]

NOTICE_KINDS = ("missing", "out_of_order", "repeated", "unseen")
_NO_PREVIOUS = bytes(HASH_SIZE)


@dataclasses.dataclass(frozen=True, slots=True)
class OrderEntry:
    """One held message: its number, its sender's user id, its reference, and its order.

    ``order`` is the order of a version-2 message whose signature verified under its
    sender's identity (it need not have decrypted: a message of an epoch whose key the
    reader lacks still verifies); None for a version-1 message or one that did not verify,
    whose fields nobody vouches for. ``reference`` is :func:`crypto.message_reference` of
    the bytes held, whatever they are.
    """

    seq: int
    sender: int
    reference: bytes
    order: MessageOrder | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class OrderNotice:
    """Something the held messages' own order says the server's order hides.

    ``seq`` is the held message to show the notice with, ``sender`` that message's sender
    (for ``missing``, the sender of the messages that did not arrive). ``chain``, ``first``
    and ``last`` name the session and the counters concerned (``first == last`` but for a
    run of missing messages), ``after`` and ``before`` are sender's clock times in
    milliseconds: for ``missing``, of the session's messages either side of the gap
    (``after`` None when the gap is at the session's start); otherwise ``before`` is the
    time of the message shown with, if it carries one.
    """

    kind: str
    seq: int
    sender: int
    chain: bytes | None
    first: int | None
    last: int | None
    after: int | None
    before: int | None

    def _sort_key(self) -> tuple[int, int, int, bytes, int]:
        return (
            self.seq,
            NOTICE_KINDS.index(self.kind),
            self.sender,
            self.chain or b"",
            self.first or 0,
        )


def _check_entries(entries: Sequence[OrderEntry], from_start: bool) -> list[OrderEntry]:
    checked = [require_type(entry, OrderEntry, "An order entry") for entry in entries]
    for index, entry in enumerate(checked):
        for name in ("seq", "sender"):
            value = getattr(entry, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FormatError(f"An entry's {name} must be a positive integer, not {value!r}")
        require_length(entry.reference, HASH_SIZE, "An entry's reference")
        if entry.order is not None:
            require_type(entry.order, MessageOrder, "An entry's order")
        if index and entry.seq != checked[index - 1].seq + 1:
            raise FormatError(
                f"The entries must be consecutive messages: {entry.seq} follows "
                f"{checked[index - 1].seq}"
            )
    if from_start and checked and checked[0].seq != 1:
        raise FormatError(f"Entries from the start begin at 1, not {checked[0].seq}")
    return checked


def check_order(entries: Sequence[OrderEntry], from_start: bool) -> list[OrderNotice]:
    """The notices for consecutive held messages, in the server's order.

    ``entries`` are consecutive messages (``seq`` n, n + 1, ...); ``from_start`` says that
    they begin at the conversation's first message, so that nothing before them can hold
    what they refer to. Returns the notices sorted by ``seq``, then by kind in the order of
    ``NOTICE_KINDS``, then by sender, chain and counter. Raises :class:`FormatError` for
    entries that are not consecutive or not well formed, or for ``from_start`` with
    entries that do not begin at 1.
    """
    if not isinstance(from_start, bool):
        raise FormatError(f"from_start must be True or False, not {from_start!r}")
    held = _check_entries(entries, from_start)
    notices: list[OrderNotice] = []
    seq_of_reference: dict[bytes, int] = {}
    for entry in held:
        seq_of_reference.setdefault(entry.reference, entry.seq)
    # Each session's messages in the server's order: (counter, entry).
    sessions: dict[tuple[int, bytes], list[OrderEntry]] = {}
    for entry in held:
        if entry.order is not None:
            sessions.setdefault((entry.sender, entry.order.chain), []).append(entry)
    out_of_order: set[int] = set()
    for (sender, chain), messages in sessions.items():
        notices += _session_notices(sender, chain, messages, from_start, out_of_order)
    for entry in held:
        order = entry.order
        if order is None or order.previous == _NO_PREVIOUS:
            continue
        seen_at = seq_of_reference.get(order.previous)
        if seen_at is None:
            if from_start:
                notices.append(_notice("unseen", entry))
        elif seen_at > entry.seq and seen_at not in out_of_order:
            out_of_order.add(seen_at)
            notices.append(_notice("out_of_order", held[seen_at - held[0].seq]))
    return sorted(notices, key=OrderNotice._sort_key)


def _notice(kind: str, entry: OrderEntry) -> OrderNotice:
    order = entry.order
    return OrderNotice(
        kind=kind,
        seq=entry.seq,
        sender=entry.sender,
        chain=None if order is None else order.chain,
        first=None if order is None else order.counter,
        last=None if order is None else order.counter,
        after=None,
        before=None if order is None else order.sent_at,
    )


def _session_notices(
    sender: int,
    chain: bytes,
    messages: list[OrderEntry],
    from_start: bool,
    out_of_order: set[int],
) -> list[OrderNotice]:
    notices: list[OrderNotice] = []
    first_at: dict[int, OrderEntry] = {}
    highest = 0
    for entry in messages:
        counter = entry.order.counter  # type: ignore[union-attr]  # sessions hold ordered entries
        earlier = first_at.get(counter)
        if earlier is not None:
            if earlier.reference != entry.reference:
                notices.append(_notice("repeated", entry))
            continue
        first_at[counter] = entry
        if counter < highest:
            out_of_order.add(entry.seq)
            notices.append(_notice("out_of_order", entry))
        highest = max(highest, counter)
    counters = sorted(first_at)
    previous = 0 if from_start else counters[0] - 1
    for counter in counters:
        if counter > previous + 1:
            shown = first_at[counter]
            before_gap = first_at.get(previous)
            notices.append(
                OrderNotice(
                    kind="missing",
                    seq=shown.seq,
                    sender=sender,
                    chain=chain,
                    first=previous + 1,
                    last=counter - 1,
                    after=None if before_gap is None else before_gap.order.sent_at,  # type: ignore[union-attr]
                    before=shown.order.sent_at,  # type: ignore[union-attr]
                )
            )
        previous = counter
    return notices
