"""The inbox: stored messages in, verified and decrypted messages out, in order, once each.

Messages arrive by three overlapping paths (pushes, ``sync`` and ``history`` replies). The
inbox keeps one :class:`SequenceBuffer` per conversation, opens each message when its turn
comes, and asks for a ``sync`` whenever a sequence number skips ahead, since the channel
layer may have dropped the push in between (docs/protocol.md, "Delivery guarantees").

Sequence numbers are the server's, so they alone cannot stop a server from storing a
valid sealed message again under a new number. The sender and the client message id are
sealed into the message (crypto/SPEC.md, "Messages"), so a message that opens under a
(sender, id) already delivered in its conversation is a replay: its number is held, but
it is not delivered again.

Nor can they stop a server from withholding a message and numbering the rest without a
gap, or from swapping two. A version-2 message carries its sender's own order, signed
(crypto/SPEC.md, "Order"), and the inbox reads the run of messages it has followed for
what the numbering hides, reporting each finding once (:meth:`Inbox.report_order`, called
when the messages at hand are all in, so that a page's swapped pair is one finding). A
message in its sender's order (the next counter of its session, naming a message already
held, or none) cannot change the findings, so the whole run is read again only after one
that is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import crypto
from confide_client.ordering import SequenceBuffer
from confide_client.records import ReceivedMessage
from confide_client.wire import MessageData
from crypto import MessageOrder, OrderEntry, OrderNotice

__all__ = ["Inbox"]

log = logging.getLogger(__name__)

_NO_PREVIOUS = bytes(32)


class _OrderRun:
    """The messages of one conversation released so far, for the order check."""

    __slots__ = (
        "entries",
        "from_start",
        "highest",
        "reported",
        "seq_of_reference",
        "unresolved",
        "unusual",
    )

    def __init__(self, from_start: bool) -> None:
        self.from_start = from_start
        self.entries: list[OrderEntry] = []
        self.seq_of_reference: dict[bytes, int] = {}
        self.highest: dict[tuple[int, bytes], int] = {}
        self.reported: set[OrderNotice] = set()
        # References named as ``previous`` that no message held so far has.
        self.unresolved: set[bytes] = set()
        self.unusual = False

    def add(self, entry: OrderEntry) -> None:
        """Holds one released message; marks the run ``unusual`` when it may change the
        findings."""
        in_order = True
        order = entry.order
        if order is not None:
            session = (entry.sender, order.chain)
            highest = self.highest.get(session)
            if highest is None:
                # A session's first message here: from its start, or from before the run.
                next_counter = order.counter == 1 or not self.from_start
            else:
                next_counter = order.counter == highest + 1
            known = order.previous == _NO_PREVIOUS or order.previous in self.seq_of_reference
            if not known:
                self.unresolved.add(order.previous)
            in_order = next_counter and known
            self.highest[session] = max(highest or 0, order.counter)
        # A message an earlier one named, arriving after it: the order says something.
        if entry.reference in self.unresolved:
            self.unresolved.discard(entry.reference)
            in_order = False
        self.entries.append(entry)
        self.seq_of_reference.setdefault(entry.reference, entry.seq)
        self.unusual |= not in_order

    def new_findings(self) -> list[OrderNotice]:
        self.unusual = False
        found = [
            notice
            for notice in crypto.check_order(self.entries, self.from_start)
            if notice not in self.reported
        ]
        self.reported.update(found)
        return found


class Inbox:
    """Orders, deduplicates and opens messages; the results wait in :attr:`messages`.

    ``open_message`` verifies and decrypts one message, or returns ``None`` for one that
    must be skipped (it then still counts as held, so it is not fetched again and again).
    ``request_sync`` is called with a conversation whose sequence has a gap. ``replays``
    counts messages that opened but had been delivered before under another number.

    Feed it from one task only: opening a message may wait (for a key), and two feeders
    could then interleave their releases out of order.
    """

    def __init__(
        self,
        open_message: Callable[[MessageData], Awaitable[ReceivedMessage | None]],
        request_sync: Callable[[uuid.UUID], None],
        verified_order: Callable[[MessageData], Awaitable[MessageOrder | None]] | None = None,
        warn: Callable[[uuid.UUID, OrderNotice], None] | None = None,
    ) -> None:
        """``verified_order`` gives the order of a message that did not open but whose
        signature verifies (its epoch's key is not held, say); ``warn`` hears each order
        finding once."""
        self._open = open_message
        self._request_sync = request_sync
        self._verified_order = verified_order
        self._warn = warn
        self._orders: dict[uuid.UUID, _OrderRun] = {}
        self._buffers: dict[uuid.UUID, SequenceBuffer[MessageData]] = {}
        # (sender, client message id) of every message delivered, per conversation.
        self._delivered: dict[uuid.UUID, set[tuple[int, uuid.UUID]]] = {}
        self.messages: asyncio.Queue[ReceivedMessage] = asyncio.Queue()
        self.replays = 0

    def track(self, conversation: uuid.UUID, position: int = 0) -> None:
        """Starts following a conversation from ``position`` (no effect if followed)."""
        if conversation not in self._buffers:
            self._buffers[conversation] = SequenceBuffer(position)
            self._orders[conversation] = _OrderRun(from_start=position == 0)

    def forget(self, conversation: uuid.UUID) -> None:
        """Stops following a conversation (it is no longer the user's)."""
        self._buffers.pop(conversation, None)
        self._delivered.pop(conversation, None)
        self._orders.pop(conversation, None)

    def is_tracked(self, conversation: uuid.UUID) -> bool:
        return conversation in self._buffers

    def position(self, conversation: uuid.UUID) -> int:
        """The highest sequence number held without a gap (0: none)."""
        buffer = self._buffers.get(conversation)
        return 0 if buffer is None else buffer.position

    def positions(self) -> dict[uuid.UUID, int]:
        """The position of every followed conversation, for a ``sync`` after a reconnect."""
        return {conversation: b.position for conversation, b in self._buffers.items()}

    def newest_reference(self, conversation: uuid.UUID) -> tuple[int, bytes] | None:
        """The number and reference of the newest message released in a conversation."""
        run = self._orders.get(conversation)
        if run is None or not run.entries:
            return None
        return run.entries[-1].seq, run.entries[-1].reference

    def rewind(self, conversation: uuid.UUID, position: int) -> None:
        """Follows a conversation again from ``position``, lower than the one held: the
        server was restored to it, and numbers what follows anew. What was delivered stays
        delivered (a message uploaded again under a new number is a replay, not shown
        twice); the order check keeps only the messages up to ``position``."""
        old = self._orders.get(conversation)
        self._buffers[conversation] = SequenceBuffer(position)
        run = _OrderRun(from_start=old.from_start if old is not None else position == 0)
        if old is not None:
            for entry in old.entries:
                if entry.seq <= position:
                    run.add(entry)
            run.reported = set(old.reported)
            run.unusual = False
        self._orders[conversation] = run

    def has_gap(self, conversation: uuid.UUID) -> bool:
        buffer = self._buffers.get(conversation)
        return buffer is not None and buffer.has_gap

    async def accept(self, message: MessageData) -> int:
        """Takes one stored message; returns how many messages it released."""
        self.track(message.conversation)
        buffer = self._buffers[message.conversation]
        released = buffer.offer(message.seq, message)
        delivered = self._delivered.setdefault(message.conversation, set())
        run = self._orders[message.conversation]
        for item in released:
            opened = await self._open(item)
            run.add(await self._order_entry(item, opened))
            if opened is None:
                continue
            # Only a message that opened claims its id, so a forgery cannot hide it.
            sealed_as = (opened.sender_id, opened.client_message_id)
            if sealed_as in delivered:
                self.replays += 1
                log.warning("a message was stored again under a new sequence number")
                continue
            delivered.add(sealed_as)
            self.messages.put_nowait(opened)
        if buffer.has_gap:
            self._request_sync(message.conversation)
        return len(released)

    def report_order(self) -> int:
        """Reads again the order of each conversation where an unusual message arrived
        since the last reading, and reports each new finding once to ``warn``; returns how
        many. Call it when the messages at hand are all in (a page, a push): a finding may
        change as more arrive (a message reported missing can come, late, out of order)."""
        reported = 0
        for conversation, run in self._orders.items():
            if not run.unusual:
                continue
            for notice in run.new_findings():
                reported += 1
                if self._warn is not None:
                    self._warn(conversation, notice)
        return reported

    async def _order_entry(self, item: MessageData, opened: ReceivedMessage | None) -> OrderEntry:
        """What one released message adds to the order check: the reference of its bytes,
        and its order if it opened (or, not opened, if its signature still verifies)."""
        order = None
        if opened is not None:
            # It opened, so it parses; bytes that do not (a stand-in) carry no order.
            with contextlib.suppress(crypto.CryptoError):
                order = crypto.parse_message(item.ciphertext).order
        elif self._verified_order is not None:
            order = await self._verified_order(item)
        return OrderEntry(
            seq=item.seq,
            sender=item.sender,
            reference=crypto.message_reference(item.ciphertext),
            order=order,
        )

    async def get(self, timeout: float | None = None) -> ReceivedMessage:
        """The next message; raises ``TimeoutError`` after ``timeout`` seconds."""
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def __aiter__(self) -> AsyncIterator[ReceivedMessage]:
        while True:
            yield await self.messages.get()
