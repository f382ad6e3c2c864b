"""Sending and reading messages.

A send is admitted (or refused at once with ``overloaded``), queued for the process's
writer, and stored with its batch in one transaction on the writer's thread
(``messaging/services/writer.py``); each new message is announced to its members after
the commit, before the sender's acknowledgement. A ``history`` page is read in the shared
database thread. ``sync`` frames are read together: those that arrive while a batch is
read wait, and the next trip reads all of them (up to ``SYNCS_AT_ONCE``), on a thread and
connection of the reader's own, with one statement for every membership of the batch. After
a restart every socket of a process syncs at once, and each sync alone was a trip to the
database thread and a statement of its own (docs/performance.md).

The writer, the sync reader and the admission limits of a process are built once, by
:func:`start`, which ``MessagingConfig.ready()`` calls.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError

from crypto import PublicIdentity
from messaging import load
from messaging.batching import Batcher
from messaging.limits import TokenBucket
from messaging.metrics import SYNC_BATCH_SIZE
from messaging.models import Conversation, Message
from messaging.services import events, generations
from messaging.services.common import in_db_thread, member_conversation, members_conversations
from messaging.services.writer import SendRequest, StoredMessage, message_frame, store_batch
from protocol.errors import NotFoundError, OverloadedError
from protocol.to_client import Erasure, MessageFrame


class Admission:
    """Refuses a new message at once, before any work on it, when this process is past
    what it can store and deliver: more messages a second than the operator's
    ``CONFIDE_MAX_SENDS_PER_SECOND``, or an event loop running late (messaging/load.py)."""

    def __init__(self) -> None:
        self._bucket: TokenBucket | None = None

    def check(self) -> None:
        rate: int = settings.CONFIDE_MAX_SENDS_PER_SECOND
        if rate:
            if self._bucket is None or self._bucket.rate != rate:
                self._bucket = TokenBucket(rate, max(1, rate // 4))
            wait = self._bucket.take()
            if wait:
                raise OverloadedError(
                    "The server is at capacity; nothing was stored. Retry shortly.",
                    retry_after_ms=int(wait * 1000) + random.randint(50, 500),  # noqa: S311
                )
        if load.lag() * 1000 > settings.CONFIDE_MAX_LOOP_LAG_MS:
            raise OverloadedError(
                "The server is busy; nothing was stored. Retry shortly.", retry_after_ms=1000
            )


async def announce(results: Sequence[StoredMessage | BaseException]) -> None:
    """After a batch committed: each new message to every socket of its members but the
    one that sent it, whose ack says all it needs (docs/protocol.md, "Delivery"); a resend
    found stored was announced when it was first stored."""
    await events.publish_many(
        [
            events.Event(result.member_ids, result.to_frame(), except_channel=result.origin)
            for result in results
            if isinstance(result, StoredMessage) and not result.duplicate
        ]
    )


class Sending:
    """One process's way in for messages: admission, then the group-commit writer."""

    def __init__(self) -> None:
        self.admission = Admission()
        self.writer: Batcher[SendRequest, StoredMessage] = Batcher(
            store_batch,
            committed=announce,
            max_batch=settings.CONFIDE_WRITE_BATCH,
            max_pending=settings.CONFIDE_MAX_PENDING_SENDS,
        )


_sending: Sending | None = None
_syncs: Batcher[SyncRequest, list[Page]] | None = None

# Sync frames read in one trip, at most.
SYNCS_AT_ONCE = 200


def start() -> None:
    """Builds the process's writer, sync reader and admission limits
    (``MessagingConfig.ready()``)."""
    global _sending, _syncs
    _sending = Sending()
    _syncs = Batcher(
        _messages_after_many,
        max_batch=SYNCS_AT_ONCE,
        # Each socket waits for its own sync before it sends another: what waits is at most
        # a frame per socket of the process.
        max_pending=1_000_000,
        name="confide-sync-reader",
        sizes=SYNC_BATCH_SIZE,
        busy="The server is busy; retry the sync shortly.",
        checked=True,
    )


def sending() -> Sending:
    if _sending is None:
        raise ImproperlyConfigured("The messaging app is not ready: call start() first.")
    return _sending


@dataclass(frozen=True)
class PendingSend:
    """A message queued for the writer: :meth:`stored` waits for its batch's commit."""

    request: SendRequest
    _future: asyncio.Future[StoredMessage]

    async def stored(self) -> StoredMessage:
        """The stored message, once its batch committed and it was announced; raises the
        refusal (``bad_ciphertext``, ``stale_epoch``, ``unavailable``, ...) otherwise."""
        return await self._future


def submit_message(
    user_id: int,
    sender_identity: PublicIdentity,
    conversation_id: uuid.UUID,
    client_message_id: uuid.UUID,
    epoch: int,
    ciphertext: bytes,
    origin: str | None = None,
) -> PendingSend:
    """Admits a sealed message and queues it for the writer, at once (so one socket's
    messages keep the order it sent them while it goes on reading frames; docs/protocol.md:
    acks may arrive out of order). Raises ``OverloadedError`` at once. ``origin``, the
    sending socket's channel, is left out of the message's push: its ack tells it."""
    current = sending()
    current.admission.check()
    request = SendRequest(
        user_id, conversation_id, client_message_id, epoch, ciphertext, sender_identity, origin
    )
    return PendingSend(request, current.writer.enqueue(request))


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    conversation_id: uuid.UUID
    messages: tuple[MessageFrame, ...]
    has_more: bool
    last_seq: int
    # Where the conversation was restored to, in a generation begun on a restored database.
    restored_at: int | None = None
    # "erasing" or "erased": nothing of its history is served (services/erasure.py).
    status: Erasure | None = None


def _frames(conversation_id: uuid.UUID, rows: Sequence[Message]) -> tuple[MessageFrame, ...]:
    return tuple(
        message_frame(
            conversation_id,
            m.seq,
            m.client_message_id,
            m.epoch,
            m.sender_id,
            bytes(m.ciphertext),
            m.created_at,
        )
        for m in rows
    )


@dataclass(frozen=True)
class SyncRequest:
    """One ``sync`` frame's question: a page of each conversation after the number given."""

    user_id: int
    after: dict[uuid.UUID, int]
    limit: int


def _messages_after_many(requests: Sequence[SyncRequest]) -> list[list[Page] | Exception]:
    """For each sync, in order, a page of each of its conversations after the number given:
    the memberships of the whole batch read in one statement (``not_found`` for a sync
    naming a conversation not its user's, for that sync alone), and the messages only of
    the conversations with anything after the number: after a reconnect most have nothing
    new, and a sync lists every conversation."""
    ids = list({c for request in requests for c in request.after})
    restored = generations.restored_at(ids)
    members = members_conversations({r.user_id for r in requests}, ids)
    answers: list[list[Page] | Exception] = []
    for request in requests:
        conversations = members.get(request.user_id, {})
        if any(c not in conversations for c in request.after):
            answers.append(NotFoundError("No such conversation."))
            continue
        try:
            answers.append(
                [
                    _page_after(conversations[c], seq, request.limit, restored.get(c))
                    for c, seq in request.after.items()
                ]
            )
        except (OperationalError, InterfaceError):
            raise  # the database itself: every sync of the batch is ``unavailable``
        except Exception as exc:  # noqa: BLE001 - that sync's alone (the consumer logs it)
            answers.append(exc)
    return answers


_NOT_SERVED = (Conversation.Status.ERASING, Conversation.Status.ERASED)


def _page_after(conversation: Conversation, seq: int, limit: int, restored: int | None) -> Page:
    erasure = _erasure(conversation)
    if erasure is not None:
        return Page(conversation.id, (), False, conversation.last_seq, status=erasure)
    if conversation.last_seq <= seq:
        rows: list[Message] = []
    else:
        # Not of a conversation whose erasure began since its row was read with the batch's.
        rows = list(
            Message.objects.filter(conversation=conversation, seq__gt=seq)
            .exclude(conversation__status__in=_NOT_SERVED)
            .order_by("seq")[: limit + 1]
        )
    return Page(
        conversation.id,
        _frames(conversation.id, rows[:limit]),
        len(rows) > limit,
        conversation.last_seq,
        restored,
    )


def _messages_before(
    user_id: int, conversation_id: uuid.UUID, before: int | None, limit: int
) -> Page:
    conversation = member_conversation(user_id, conversation_id, lock=False)
    erasure = _erasure(conversation)
    if erasure is not None:
        return Page(conversation_id, (), False, conversation.last_seq, status=erasure)
    query = Message.objects.filter(conversation=conversation)
    if before is not None:
        query = query.filter(seq__lt=before)
    rows = list(query.order_by("-seq")[: limit + 1])
    newest_first = rows[:limit]
    return Page(
        conversation_id,
        _frames(conversation_id, newest_first[::-1]),
        len(rows) > limit,
        conversation.last_seq,
    )


def _erasure(conversation: Conversation) -> Erasure | None:
    """Whether the conversation's erasure began or finished: then no page holds any of its
    messages, not even those not yet destroyed."""
    if conversation.status == Conversation.Status.ERASING:
        return "erasing"
    if conversation.status == Conversation.Status.ERASED:
        return "erased"
    return None


async def sync_messages(user_id: int, after: dict[uuid.UUID, int], limit: int) -> list[Page]:
    """One page per conversation after the given sequence numbers, oldest first; read with
    the syncs beside it, on the sync reader's thread."""
    if _syncs is None:
        raise ImproperlyConfigured("The messaging app is not ready: call start() first.")
    return await _syncs.enqueue(SyncRequest(user_id, after, limit))


# The page before ``before`` (or the newest), oldest first within the page.
history = in_db_thread(_messages_before)


def page_limit(requested: int | None) -> int:
    default: int = settings.CONFIDE_HISTORY_PAGE
    return default if requested is None else min(requested, default)
