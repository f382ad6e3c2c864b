"""The state of each of the user's own messages sent in this run, after the outbox.

The outbox knows a message until its ``ack`` (``pending``, ``sending``, then ``sent`` or
``failed``); what follows, ``read``, comes from the other members' read positions (a
``read`` event, or the ``read_seqs`` of a conversation listing after a reconnect). This
keeps the last :class:`MessageStatus` of every message of this run, so a caller can ask
for one at any time, and turns read positions into ``read`` statuses.
"""

from __future__ import annotations

import uuid

from confide_client.records import MessageState, MessageStatus

__all__ = ["SentMessages"]


class SentMessages:
    """The last status of every message this client queued in this run."""

    def __init__(self) -> None:
        self._statuses: dict[uuid.UUID, MessageStatus] = {}
        # Per conversation, the messages sent (acked) and not read yet: id -> seq.
        self._unread: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
        # Per conversation, the highest read position of another member seen.
        self._read: dict[uuid.UUID, int] = {}

    def get(self, client_message_id: uuid.UUID) -> MessageStatus | None:
        return self._statuses.get(client_message_id)

    def of(self, conversation: uuid.UUID) -> list[MessageStatus]:
        """The statuses of the conversation's messages, in the order they were queued."""
        return [s for s in self._statuses.values() if s.conversation == conversation]

    def update(self, status: MessageStatus) -> list[MessageStatus]:
        """Takes a status the outbox reported; returns it, followed by its ``read`` status
        when a read position seen before already covers it (the read event came first)."""
        self._statuses[status.client_message_id] = status
        if status.state is MessageState.SENT and status.seq is not None:
            self._unread.setdefault(status.conversation, {})[status.client_message_id] = status.seq
            return [status, *self.read_up_to(status.conversation, 0)]
        return [status]

    def read_up_to(self, conversation: uuid.UUID, seq: int) -> list[MessageStatus]:
        """Another member has read the conversation up to ``seq``: the messages that this
        makes ``read``, with their new status."""
        seq = max(seq, self._read.get(conversation, 0))
        self._read[conversation] = seq
        unread = self._unread.get(conversation)
        if not unread:
            return []
        changed = []
        for client_message_id, sent_seq in list(unread.items()):
            if sent_seq <= seq:
                del unread[client_message_id]
                status = MessageStatus(conversation, client_message_id, MessageState.READ, sent_seq)
                self._statuses[client_message_id] = status
                changed.append(status)
        changed.sort(key=lambda status: status.seq or 0)
        return changed
