"""The outbox: every sealed message the server has not acknowledged yet.

One settle rule (docs/protocol.md, "Delivery guarantees"): a message leaves the outbox only
on its ``ack``, either the reply to its ``send`` or a late ``ack`` that arrives after its
request gave up (the client hands that one to :meth:`Outbox.acknowledge` too). A push or a
``sync`` page that shows one's own message never settles it, although it proves the message
stored: one settling path keeps the counters and :func:`deliver`'s loop simple to reason
about, and the price is at most one resend, which the server answers with a duplicate
``ack`` and does not store again. A refusal that a resend cannot change, or closing the
client, fails the message instead.

Until its ``ack`` the client keeps the exact bytes it sealed and resends them, with the same
client message id, after a reconnect, a timeout or an error the protocol marks as safe to
resend (``protocol.errors.RESEND``, the same set the browser reads): the server
deduplicates on that id, so a resend never stores a second copy. Only a ``stale_epoch``
answer changes the bytes (re-sealed under the new epoch, same id), because nothing was
stored.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from confide_client.backoff import Backoff
from confide_client.errors import (
    ClientError,
    ConnectionLostError,
    ProtocolError,
    ReplyTimeoutError,
    ServerRefusedError,
    known_code,
)
from crypto import b64encode
from protocol.errors import RESEND, ErrorCode
from protocol.to_client import AckFrame, ServerFrame
from protocol.to_server import SendFrame

__all__ = ["Ack", "Link", "Outbox", "OutgoingMessage", "deliver", "resend_delay"]


@dataclass(frozen=True, slots=True)
class Ack:
    """The server's acknowledgement: the message is stored under ``seq``."""

    conversation: uuid.UUID
    client_message_id: uuid.UUID
    seq: int
    duplicate: bool

    @classmethod
    def from_frame(cls, frame: AckFrame) -> Ack:
        return cls(
            conversation=frame.conversation,
            client_message_id=frame.client_message_id,
            seq=frame.seq,
            duplicate=frame.duplicate,
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

    def frame(self) -> SendFrame:
        """The ``send`` frame that carries these bytes."""
        return SendFrame(
            conversation=self.conversation,
            client_message_id=self.client_message_id,
            epoch=self.epoch,
            ciphertext=b64encode(self.ciphertext),
        )


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
    """What delivery needs of the websocket (``confide_client.realtime.Realtime``)."""

    async def wait_connected(self, timeout: float | None = None) -> None: ...

    async def call(self, frame: SendFrame, timeout: float) -> ServerFrame: ...

    def abort(self) -> None: ...


def resend_delay(error: ServerRefusedError, pause: Backoff) -> float | None:
    """Seconds to wait before sending the same bytes again after ``error``, or ``None`` when
    the protocol does not allow a resend after its code (``protocol.errors.RESEND``).

    The server's ``retry_after_ms`` is taken when the error carries it (it knows how long
    it needs); otherwise the pause grows, so a struggling server is not hammered."""
    if known_code(error.code) not in RESEND:
        return None
    retry_after_ms = error.data.get("retry_after_ms")
    if isinstance(retry_after_ms, int) and not isinstance(retry_after_ms, bool):
        return max(retry_after_ms, 0) / 1000
    return pause.next_delay()


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

    * no ack within ``ack_timeout``, or a reply that is not its ``ack``: the socket may be
      dead (or confused) without knowing it, so it is dropped; after the reconnect the
      same bytes go again;
    * the socket closed: the same bytes go again once it is back;
    * a code in ``protocol.errors.RESEND`` (nothing was stored): wait ``retry_after_ms``
      when the error carries it, a growing pause otherwise, then the same bytes again;
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
            if not isinstance(reply, AckFrame):
                raise ProtocolError(f"A send was answered with {reply.type}, not ack")
        except (ReplyTimeoutError, ProtocolError):
            link.abort()
            continue
        except ConnectionLostError:
            continue
        except ServerRefusedError as exc:
            if exc.code == ErrorCode.STALE_EPOCH:
                try:
                    await reseal(entry)
                except ClientError as reseal_error:
                    outbox.fail(entry, reseal_error)
                    return
                outbox.reseals += 1
                continue
            delay = resend_delay(exc, pause)
            if delay is None:
                outbox.fail(entry, exc)
                return
            await asyncio.sleep(delay)
            continue
        except ClientError as exc:
            outbox.fail(entry, exc)
            return
        outbox.acknowledge(Ack.from_frame(reply))
