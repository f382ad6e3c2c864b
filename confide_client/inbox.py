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
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from confide_client.ordering import SequenceBuffer
from confide_client.records import ReceivedMessage
from confide_client.wire import MessageData

__all__ = ["Inbox"]

log = logging.getLogger(__name__)


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
    ) -> None:
        self._open = open_message
        self._request_sync = request_sync
        self._buffers: dict[uuid.UUID, SequenceBuffer[MessageData]] = {}
        # (sender, client message id) of every message delivered, per conversation.
        self._delivered: dict[uuid.UUID, set[tuple[int, uuid.UUID]]] = {}
        self.messages: asyncio.Queue[ReceivedMessage] = asyncio.Queue()
        self.replays = 0

    def track(self, conversation: uuid.UUID, position: int = 0) -> None:
        """Starts following a conversation from ``position`` (no effect if followed)."""
        if conversation not in self._buffers:
            self._buffers[conversation] = SequenceBuffer(position)

    def forget(self, conversation: uuid.UUID) -> None:
        """Stops following a conversation (it is no longer the user's)."""
        self._buffers.pop(conversation, None)
        self._delivered.pop(conversation, None)

    def is_tracked(self, conversation: uuid.UUID) -> bool:
        return conversation in self._buffers

    def position(self, conversation: uuid.UUID) -> int:
        """The highest sequence number held without a gap (0: none)."""
        buffer = self._buffers.get(conversation)
        return 0 if buffer is None else buffer.position

    def positions(self) -> dict[uuid.UUID, int]:
        """The position of every followed conversation, for a ``sync`` after a reconnect."""
        return {conversation: b.position for conversation, b in self._buffers.items()}

    def has_gap(self, conversation: uuid.UUID) -> bool:
        buffer = self._buffers.get(conversation)
        return buffer is not None and buffer.has_gap

    async def accept(self, message: MessageData) -> int:
        """Takes one stored message; returns how many messages it released."""
        self.track(message.conversation)
        buffer = self._buffers[message.conversation]
        released = buffer.offer(message.seq, message)
        delivered = self._delivered.setdefault(message.conversation, set())
        for item in released:
            opened = await self._open(item)
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

    async def get(self, timeout: float | None = None) -> ReceivedMessage:
        """The next message; raises ``TimeoutError`` after ``timeout`` seconds."""
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def __aiter__(self) -> AsyncIterator[ReceivedMessage]:
        while True:
            yield await self.messages.get()
