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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from crypto import b64encode
from portal.client.backoff import Backoff
from portal.client.errors import (
    ClientError,
    ConnectionLostError,
    ProtocolError,
    RateLimitedError,
    ReplyTimeoutError,
    ServerRefusedError,
    StaleEpochError,
)
from portal.client.wire import as_bool, as_int, as_uuid

__all__ = ["Ack", "Link", "Outbox", "OutgoingMessage", "deliver"]

# Answers after which the same bytes are simply sent again (docs/protocol.md, "Errors").
TRANSIENT_CODES = frozenset({"unavailable", "server_error"})


@dataclass(frozen=True, slots=True)
class Ack:
    """The server's acknowledgement: the message is stored under ``seq``."""

    conversation: uuid.UUID
    client_message_id: uuid.UUID
    seq: int
    duplicate: bool

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Ack:
        """Reads an ``ack`` frame; raises :class:`ProtocolError` if it is malformed."""
        return cls(
            conversation=as_uuid(frame, "conversation"),
            client_message_id=as_uuid(frame, "client_message_id"),
            seq=as_int(frame, "seq", minimum=1),
            duplicate=as_bool(frame, "duplicate"),
        )


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
        self.reseals += 1

    def frame(self) -> dict[str, Any]:
        """The ``send`` frame that carries these bytes."""
        return {
            "type": "send",
            "conversation": str(self.conversation),
            "client_message_id": str(self.client_message_id),
            "epoch": self.epoch,
            "ciphertext": b64encode(self.ciphertext),
        }


class Outbox:
    """Unacknowledged messages in the order they were written."""

    def __init__(self) -> None:
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], OutgoingMessage] = {}
        # Counters, for tests and the benchmark.
        self.acked = 0
        self.duplicate_acks = 0
        self.resends = 0
        self.reseals = 0

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
        self.acked += 1
        self.duplicate_acks += ack.duplicate
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


class Link(Protocol):
    """What delivery needs of the websocket (``portal.client.realtime.Realtime``)."""

    async def wait_connected(self, timeout: float | None = None) -> None: ...

    async def call(self, frame: dict[str, Any], timeout: float) -> dict[str, Any]: ...

    def abort(self) -> None: ...


async def deliver(
    entry: OutgoingMessage,
    outbox: Outbox,
    link: Link,
    *,
    ack_timeout: float,
    reseal: Callable[[OutgoingMessage], Awaitable[None]],
    pause: Backoff | None = None,
) -> None:
    """Sends one waiting message until the server acknowledges it or refuses it for good.

    * no ack within ``ack_timeout``: the socket may be dead without knowing it, so it is
      dropped; after the reconnect the same bytes go again;
    * the socket closed: the same bytes go again once it is back;
    * ``rate_limited``: wait as told, then the same bytes again;
    * ``unavailable`` or ``server_error``: nothing was stored; wait (backoff), same bytes;
    * ``stale_epoch``: ``reseal`` seals the text under the new epoch, same id, and it goes;
    * any other refusal settles the message's future with that error.

    The loop ends as soon as the message's future is settled, also by an ``ack`` that the
    client matched on its own (one that arrived after its request had timed out).
    """
    pause = pause if pause is not None else Backoff(initial=0.2, maximum=5.0)
    while not entry.acked.done():
        try:
            await link.wait_connected()
        except ClientError as exc:
            outbox.fail(entry, exc)
            return
        if entry.attempts:
            outbox.resends += 1
        entry.attempts += 1
        try:
            reply = await link.call(entry.frame(), ack_timeout)
            ack = Ack.from_frame(reply)
        except (ReplyTimeoutError, ProtocolError):
            link.abort()
            continue
        except ConnectionLostError:
            continue
        except RateLimitedError as exc:
            await asyncio.sleep(exc.retry_after)
            continue
        except StaleEpochError:
            try:
                await reseal(entry)
            except ClientError as exc:
                outbox.fail(entry, exc)
                return
            outbox.reseals += 1
            continue
        except ServerRefusedError as exc:
            if exc.code in TRANSIENT_CODES:
                await asyncio.sleep(pause.next_delay())
                continue
            outbox.fail(entry, exc)
            return
        except ClientError as exc:
            outbox.fail(entry, exc)
            return
        outbox.acknowledge(ack)
