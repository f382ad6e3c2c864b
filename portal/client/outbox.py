"""The outbox: every sealed message the server has not acknowledged yet.

A message is stored if and only if its ``ack`` arrived (docs/protocol.md, "Delivery
guarantees"). Until then the client keeps the exact bytes it sealed and resends them, with
the same client message id, after a reconnect, a timeout or a transient error: the server
deduplicates on that id, so a resend never stores a second copy. Only a ``stale_epoch``
answer changes the bytes (re-sealed under the new epoch, same id), because nothing was
stored.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

__all__ = ["Ack", "Outbox", "OutgoingMessage"]


@dataclass(frozen=True, slots=True)
class Ack:
    """The server's acknowledgement: the message is stored under ``seq``."""

    conversation: uuid.UUID
    client_message_id: uuid.UUID
    seq: int
    duplicate: bool


@dataclass(slots=True, eq=False)
class OutgoingMessage:
    """One sealed message waiting for its ``ack``.

    ``text`` is kept only to re-seal after ``stale_epoch``; neither it nor the ciphertext
    appears in ``repr``.
    """

    conversation: uuid.UUID
    client_message_id: uuid.UUID
    epoch: int
    ciphertext: bytes = field(repr=False)
    text: str = field(repr=False)
    acked: asyncio.Future[Ack] = field(repr=False)
    attempts: int = 0
    reseals: int = 0

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.conversation, self.client_message_id)

    def reseal(self, epoch: int, ciphertext: bytes) -> None:
        """Replaces the bytes after ``stale_epoch``; the client message id stays."""
        self.epoch = epoch
        self.ciphertext = ciphertext


class Outbox:
    """Unacknowledged messages in the order they were written."""

    def __init__(self) -> None:
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], OutgoingMessage] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(
        self,
        conversation: uuid.UUID,
        client_message_id: uuid.UUID,
        epoch: int,
        ciphertext: bytes,
        text: str,
    ) -> OutgoingMessage:
        """Keeps a new sealed message; its ``acked`` future resolves with the ``ack``."""
        key = (conversation, client_message_id)
        if key in self._entries:
            raise ValueError("This client message id is already waiting in the outbox")
        entry = OutgoingMessage(
            conversation=conversation,
            client_message_id=client_message_id,
            epoch=epoch,
            ciphertext=ciphertext,
            text=text,
            acked=asyncio.get_running_loop().create_future(),
        )
        self._entries[key] = entry
        return entry

    def pending(self) -> list[OutgoingMessage]:
        """The messages still waiting for an ``ack``, oldest first."""
        return list(self._entries.values())

    def acknowledge(self, ack: Ack) -> OutgoingMessage | None:
        """Settles the message this ``ack`` names and removes it from the outbox.

        An ``ack`` for a message not (or no longer) waiting is ignored and gives ``None``:
        a late ``ack`` of a resent message, or a duplicate, changes nothing.
        """
        entry = self._entries.pop((ack.conversation, ack.client_message_id), None)
        if entry is None:
            return None
        if not entry.acked.done():
            entry.acked.set_result(ack)
        return entry

    def fail(self, entry: OutgoingMessage, error: BaseException) -> None:
        """Gives up on a message the server refused for good (it was not stored)."""
        self._entries.pop(entry.key, None)
        if not entry.acked.done():
            entry.acked.set_exception(error)
            # Whoever sent it may have stopped waiting; the error is reported, not lost.
            entry.acked.exception()

    def fail_all(self, error: BaseException) -> None:
        """Settles every waiting message with ``error`` (the client is closing; whether
        those messages were stored is unknown)."""
        for entry in list(self._entries.values()):
            self.fail(entry, error)
