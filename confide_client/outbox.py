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

The outbox can write through to a store (:class:`OutboxStore`, e.g.
``confide_client.state.OutboxFile``) that keeps the sealed messages across a crash or a
restart: it is told the whole list of waiting messages after every change of it (a message
added, acknowledged, given up, or re-sealed), and only ever holds what the server would
see, the ids, the epoch and the ciphertext, never the text or a key. Closing the client
leaves the store as it is, so what was not acknowledged goes again at the next start.

An ``agreement_required`` refusal neither fails a message nor resends it: the message stays
``pending`` behind an :class:`AgreementGate` until the client accepts the agreement.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from confide_client.backoff import Backoff
from confide_client.errors import (
    AgreementRequiredError,
    ClientClosedError,
    ClientError,
    ConnectionLostError,
    ProtocolError,
    ReplyTimeoutError,
    ServerRefusedError,
    SessionEndedError,
    known_code,
)
from confide_client.records import MessageState, MessageStatus
from crypto import AttachmentReference, b64encode
from protocol.errors import RESEND, ErrorCode
from protocol.to_client import AckFrame, ServerFrame
from protocol.to_server import SendFrame

__all__ = [
    "Ack",
    "AgreementGate",
    "Link",
    "Outbox",
    "OutboxStore",
    "OutgoingMessage",
    "SealedMessage",
    "deliver",
    "resend_delay",
]

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class SealedMessage:
    """What a store keeps of a waiting message: exactly what its ``send`` frame carries,
    and when it was queued. No text, no key."""

    conversation: uuid.UUID
    client_message_id: uuid.UUID
    epoch: int
    ciphertext: bytes = field(repr=False)
    queued_at: datetime


class OutboxStore(Protocol):
    """Where an :class:`Outbox` keeps its messages beyond this process."""

    def load(self) -> list[SealedMessage]:
        """The messages kept, oldest first."""
        ...

    def save(self, messages: Sequence[SealedMessage]) -> None:
        """Replaces what is kept with ``messages``, at once and whole."""
        ...


@dataclass(slots=True, eq=False)
class OutgoingMessage:
    """One sealed message waiting for its ``ack``.

    ``text`` is kept only to re-seal after ``stale_epoch``, with ``attachments``, the
    references of the files the message presents (none for a text message); it is ``None``
    for a message taken up from a store whose text could not be recovered (it is then
    resent as it is, but cannot be re-sealed). Neither they nor the ciphertext appear in
    ``repr``.

    ``held`` is settled with the :class:`AgreementRequiredError` when the server refused
    the message until the agreement is accepted; the message itself stays waiting.
    ``parked_at`` is the agreement gate's generation while it waits there (it then holds
    back no later message of its conversation), ``None`` otherwise.
    """

    conversation: uuid.UUID
    client_message_id: uuid.UUID
    epoch: int
    ciphertext: bytes = field(repr=False)
    text: str | None = field(repr=False)
    acked: asyncio.Future[Ack] = field(repr=False)
    held: asyncio.Future[AgreementRequiredError] = field(repr=False)
    queued_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    state: MessageState = MessageState.PENDING
    reason: str | None = None
    attempts: int = 0
    parked_at: int | None = None
    reseals: int = 0
    attachments: tuple[AttachmentReference, ...] = field(default=(), repr=False)

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.conversation, self.client_message_id)

    def sealed(self) -> SealedMessage:
        return SealedMessage(
            conversation=self.conversation,
            client_message_id=self.client_message_id,
            epoch=self.epoch,
            ciphertext=self.ciphertext,
            queued_at=self.queued_at,
        )

    def status(self, seq: int | None = None) -> MessageStatus:
        return MessageStatus(
            self.conversation, self.client_message_id, self.state, seq, self.reason
        )

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
    """Unacknowledged messages in the order they were written.

    ``store``, when given, is told every change of the list (:class:`OutboxStore`).
    ``on_status`` is called with a :class:`MessageStatus` whenever a message changes
    state (it must not block).
    """

    def __init__(
        self,
        store: OutboxStore | None = None,
        on_status: Callable[[MessageStatus], None] | None = None,
    ) -> None:
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], OutgoingMessage] = {}
        self.store = store
        self.on_status = on_status
        # Counters, for tests and the benchmark.
        self.acked = 0
        self.duplicate_acks = 0
        self.resends = 0
        self.reseals = 0
        # Set (and replaced) at every change a message waiting for its turn may await.
        self._change: asyncio.Event | None = None

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
        text: str | None,
        *,
        queued_at: datetime | None = None,
        attachments: tuple[AttachmentReference, ...] = (),
    ) -> OutgoingMessage:
        """Keeps a new sealed message (and writes it to the store before it may go); its
        ``acked`` future resolves with the ``ack``. ``text`` and ``attachments`` are what
        it says, kept to seal it again after ``stale_epoch``."""
        key = (conversation, client_message_id)
        if key in self._entries:
            raise ValueError("This client message id is already waiting in the outbox")
        loop = asyncio.get_running_loop()
        entry = OutgoingMessage(
            conversation=conversation,
            client_message_id=client_message_id,
            epoch=epoch,
            ciphertext=ciphertext,
            text=text,
            acked=loop.create_future(),
            held=loop.create_future(),
            queued_at=queued_at if queued_at is not None else datetime.now(UTC),
            attachments=attachments,
        )
        self._entries[key] = entry
        try:
            self._save()
        except ClientError:
            del self._entries[key]
            raise
        self._report(entry)
        return entry

    def restore(self) -> list[OutgoingMessage]:
        """Takes up the messages the store kept (a crash, or a run closed before their
        ``ack``) that are not waiting here yet; returns them, oldest first. Their text is
        unknown (``None``) until the client recovers it."""
        if self.store is None:
            return []
        restored = []
        for sealed in self.store.load():
            if (sealed.conversation, sealed.client_message_id) in self._entries:
                continue
            restored.append(
                self.add(
                    sealed.conversation,
                    sealed.client_message_id,
                    sealed.epoch,
                    sealed.ciphertext,
                    None,
                    queued_at=sealed.queued_at,
                )
            )
        return restored

    def get(self, conversation: uuid.UUID, client_message_id: uuid.UUID) -> OutgoingMessage | None:
        """The waiting message of that id, if there is one."""
        return self._entries.get((conversation, client_message_id))

    def pending(self) -> list[OutgoingMessage]:
        """The messages still waiting for an ``ack``, oldest first."""
        return list(self._entries.values())

    def mark(self, entry: OutgoingMessage, state: MessageState, reason: str | None = None) -> None:
        """Records where a waiting message is (``pending`` or ``sending``), and reports it."""
        if entry.key not in self._entries:
            return
        if (entry.state, entry.reason) != (state, reason):
            entry.state, entry.reason = state, reason
            self._report(entry)
        self._notify()

    def park(self, entry: OutgoingMessage, generation: int | None) -> None:
        """The message waits for the agreement gate's acceptance after ``generation``
        (``None``: it no longer does)."""
        entry.parked_at = generation
        self._notify()

    def ahead_of(self, entry: OutgoingMessage, generation: int) -> OutgoingMessage | None:
        """An earlier message of the same conversation still on its way (being sent,
        waiting out a pause or for the connection), if there is one: ``entry`` waits for
        it. One waiting for the agreement gate (``parked_at`` is its ``generation`` now)
        holds nothing back."""
        for waiting in self._entries.values():
            if waiting is entry:
                return None
            if waiting.conversation == entry.conversation and waiting.parked_at != generation:
                return waiting
        return None

    async def turn(self, entry: OutgoingMessage, generation: Callable[[], int]) -> None:
        """Returns once no earlier message of the conversation is on its way
        (:meth:`ahead_of`), or once ``entry`` itself is settled: a conversation's messages
        go one at a time, in the order they were written, so the server numbers them in
        that order even when one is refused for now (docs/protocol.md, ``send``)."""
        while not entry.acked.done() and self.ahead_of(entry, generation()) is not None:
            if self._change is None:
                self._change = asyncio.Event()
            await self._change.wait()

    def _notify(self) -> None:
        if self._change is not None:
            self._change.set()
            self._change = None

    def resealed(self, entry: OutgoingMessage) -> None:
        """Keeps the new bytes of a message re-sealed after ``stale_epoch``."""
        self.reseals += 1
        self._save()

    def discard(self, entry: OutgoingMessage, error: BaseException) -> None:
        """Drops a message on purpose (its sender gave up on it); like :meth:`fail`."""
        self.fail(entry, error)

    def acknowledge(self, ack: Ack) -> OutgoingMessage | None:
        """Settles the message this ``ack`` names and removes it from the outbox.

        An ``ack`` for a message not (or no longer) waiting is ignored and gives ``None``:
        a late ``ack`` of a resent message, or a duplicate, changes nothing.
        """
        entry = self._entries.pop((ack.conversation, ack.client_message_id), None)
        if entry is None:
            return None
        self._save_quietly()
        self.acked += 1
        self.duplicate_acks += ack.duplicate
        entry.state, entry.reason = MessageState.SENT, None
        self._report(entry, ack.seq)
        if not entry.acked.done():
            entry.acked.set_result(ack)
        self._notify()
        return entry

    def fail(self, entry: OutgoingMessage, error: BaseException) -> None:
        """Gives up on a message the server refused for good (it was not stored)."""
        if self._entries.pop(entry.key, None) is not None:
            self._save_quietly()
            entry.state = MessageState.FAILED
            entry.reason = getattr(error, "code", type(error).__name__)
            self._report(entry)
        _settle(entry, error)
        self._notify()

    def abandon(self, entry: OutgoingMessage, error: ClientError) -> None:
        """This client can no longer deliver the message (it was closed, its session ended,
        or it gave up reaching the server): its sender's wait ends with ``error``, and the
        store keeps it for the next client of the same account."""
        self.mark(entry, MessageState.PENDING, error.code)
        if self._entries.pop(entry.key, None) is not None:
            _settle(entry, error)
        self._notify()

    def fail_all(self, error: BaseException) -> None:
        """Gives up on every waiting message with ``error`` (they leave the store too)."""
        for entry in list(self._entries.values()):
            self.fail(entry, error)

    def release_all(self, error: BaseException) -> None:
        """Settles every waiting message's future with ``error`` and forgets them here,
        leaving the store as it is (the client is closing: whether they were stored is
        unknown, and the next run with the same store sends them again)."""
        entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            _settle(entry, error)
        self._notify()

    def _save(self) -> None:
        if self.store is not None:
            self.store.save([entry.sealed() for entry in self._entries.values()])

    def _save_quietly(self) -> None:
        """Saves after a message left: if the store cannot be written it keeps the message,
        which is then resent and answered with a ``duplicate`` ack, so nothing is lost."""
        try:
            self._save()
        except ClientError as exc:
            log.warning("the outbox store could not be written: %s", exc.message)

    def _report(self, entry: OutgoingMessage, seq: int | None = None) -> None:
        if self.on_status is not None:
            self.on_status(entry.status(seq))


def _settle(entry: OutgoingMessage, error: BaseException) -> None:
    if not entry.acked.done():
        entry.acked.set_exception(error)
        # Whoever sent it may have stopped waiting; the error is reported, not lost.
        entry.acked.exception()


class AgreementGate:
    """Holds the messages refused with ``agreement_required`` until the user accepts the
    agreement; each acceptance releases every message held until then.

    A message refused by an answer to a ``send`` that left *before* the latest acceptance
    goes again at once (the refusal is older than the acceptance), so the race of a send
    and an acceptance never leaves a message waiting for an acceptance that already came.
    """

    def __init__(self) -> None:
        self.generation = 0
        self._accepted = asyncio.Event()

    def accepted(self) -> None:
        """The agreement was accepted: release every message held."""
        self.generation += 1
        released, self._accepted = self._accepted, asyncio.Event()
        released.set()

    async def wait_after(self, generation: int) -> None:
        """Returns once an acceptance later than ``generation`` happened."""
        if self.generation == generation:
            await self._accepted.wait()


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
    agreement: AgreementGate | None = None,
) -> None:
    """Sends one waiting message until the server acknowledges it or refuses it for good,
    each time once the messages written before it to its conversation have gone
    (:meth:`Outbox.turn`).

    * no ack within ``ack_timeout``, or a reply that is not its ``ack``: the socket may be
      dead (or confused) without knowing it, so it is dropped; after the reconnect the
      same bytes go again;
    * the socket closed: the same bytes go again once it is back;
    * the client closed, its session ended, or it gave up reconnecting: the message's
      future is settled with that error and the store keeps it (:meth:`Outbox.abandon`);
    * a code in ``protocol.errors.RESEND`` (nothing was stored): wait ``retry_after_ms``
      when the error carries it, a growing pause otherwise, then the same bytes again;
    * ``stale_epoch``: ``reseal`` seals the text under the new epoch, same id, and it goes;
    * ``agreement_required``, given an ``agreement`` gate: the message's ``held`` future is
      settled with the error, and the same bytes go again once the gate opens (without a
      gate it is refused like any other code);
    * any other refusal settles the message's future with that error.

    The loop ends as soon as the message's future is settled, also by an ``ack`` that the
    client matched on its own (one that arrived after its request had timed out).
    """
    pause = pause if pause is not None else Backoff(initial=0.2, maximum=5.0)
    gate = agreement
    while not entry.acked.done():
        await outbox.turn(entry, lambda: gate.generation if gate is not None else 0)
        if entry.acked.done():
            return
        try:
            await link.wait_connected()
        except ClientError as exc:
            outbox.abandon(entry, exc)
            return
        if entry.attempts:
            outbox.resends += 1
        entry.attempts += 1
        generation = agreement.generation if agreement is not None else 0
        outbox.mark(entry, MessageState.SENDING, entry.reason)
        try:
            reply = await link.call(entry.frame(), ack_timeout)
            if not isinstance(reply, AckFrame):
                raise ProtocolError(f"A send was answered with {reply.type}, not ack")
        except (ReplyTimeoutError, ProtocolError) as exc:
            outbox.mark(entry, MessageState.PENDING, exc.code)
            link.abort()
            continue
        except (ClientClosedError, SessionEndedError) as exc:
            outbox.abandon(entry, exc)
            return
        except ConnectionLostError as exc:
            outbox.mark(entry, MessageState.PENDING, exc.code)
            continue
        except AgreementRequiredError as exc:
            if agreement is None:
                outbox.fail(entry, exc)
                return
            outbox.mark(entry, MessageState.PENDING, exc.code)
            if not entry.held.done():
                entry.held.set_result(exc)
            outbox.park(entry, generation)
            try:
                await agreement.wait_after(generation)
            finally:
                outbox.park(entry, None)
            continue
        except ServerRefusedError as exc:
            if exc.code == ErrorCode.STALE_EPOCH:
                outbox.mark(entry, MessageState.PENDING, exc.code)
                try:
                    await reseal(entry)
                except ClientError as reseal_error:
                    outbox.fail(entry, reseal_error)
                    return
                outbox.resealed(entry)
                continue
            delay = resend_delay(exc, pause)
            if delay is None:
                outbox.fail(entry, exc)
                return
            outbox.mark(entry, MessageState.PENDING, exc.code)
            await asyncio.sleep(delay)
            continue
        except ClientError as exc:
            outbox.fail(entry, exc)
            return
        outbox.acknowledge(Ack.from_frame(reply))
