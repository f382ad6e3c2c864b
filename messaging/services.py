"""Every write the messaging app makes, and every event it broadcasts.

Each public coroutine here validates and authorises (``check`` steps), writes
in one transaction in the database thread, and only after the commit sends
events through the channel layer. The channel layer is a notification path,
at most once: nothing here depends on an event arriving. Clients recover from
a lost event with ``sync`` (docs/protocol.md).
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

import crypto
from crypto import CryptoError, PublicIdentity
from messaging import load
from messaging.batching import Batcher
from messaging.errors import (
    BadCiphertextError,
    BadEnvelopesError,
    ClientMessageIdReusedError,
    ConversationClosedError,
    MessagingError,
    NotFoundError,
    OverloadedError,
    StaleEpochError,
    UnavailableError,
)
from messaging.limits import TokenBucket
from messaging.models import Conversation, KeyEnvelope, Membership, Message
from portal.accounts.models import User

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def user_group(user_id: int) -> str:
    """The channel-layer group that reaches every socket of one user."""
    return f"user.{user_id}"


def in_db_thread(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Runs ``func`` in the database thread; a lost database becomes ``UnavailableError``."""

    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result: R = await database_sync_to_async(func)(*args, **kwargs)
            return result
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable: %s", type(exc).__name__)
            raise UnavailableError("The database is unavailable; nothing was stored.") from None

    return wrapper


async def broadcast(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    """Sends ``frame`` to every socket of each user.

    Best effort: a lost event is recovered by the client's next sync.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    # Encoded once for every socket it reaches.
    event = {"type": "deliver", "text": json.dumps(frame, separators=(",", ":"))}
    try:
        if hasattr(layer, "group_send_many"):
            await layer.group_send_many([(user_group(u), event) for u in user_ids])
        else:
            for user_id in user_ids:
                await layer.group_send(user_group(user_id), event)
    except Exception:  # the layer is only a notification path; the commit already happened
        log.warning("channel layer send failed", exc_info=True)


# --- messages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMessage:
    conversation_id: uuid.UUID
    seq: int
    client_message_id: uuid.UUID
    epoch: int
    sender_id: int
    ciphertext: bytes
    created_at: datetime
    duplicate: bool
    member_ids: tuple[int, ...]

    def to_frame(self) -> dict[str, Any]:
        return message_frame(
            self.conversation_id,
            self.seq,
            self.client_message_id,
            self.epoch,
            self.sender_id,
            self.ciphertext,
            self.created_at,
        )


def message_frame(
    conversation_id: uuid.UUID,
    seq: int,
    client_message_id: uuid.UUID,
    epoch: int,
    sender_id: int,
    ciphertext: bytes,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "type": "message",
        "conversation": str(conversation_id),
        "seq": seq,
        "client_message_id": str(client_message_id),
        "epoch": epoch,
        "sender": sender_id,
        "ciphertext": crypto.b64encode(ciphertext),
        "sent_at": created_at.isoformat(),
    }


def check_sealed_message(
    ciphertext: bytes,
    sender_identity: PublicIdentity,
    conversation_id: uuid.UUID,
    epoch: int,
    client_message_id: uuid.UUID,
) -> None:
    """The sealed message is well formed, signed by the sender, and bound to this frame's fields.

    The server holds no key, so this is everything it can check; the recipients open it.
    """
    try:
        info = crypto.verify_message(ciphertext, sender_identity)
    except CryptoError as exc:
        raise BadCiphertextError(f"The sealed message was rejected: {exc}") from None
    if info.conversation_id != conversation_id.bytes:
        raise BadCiphertextError("The sealed message is bound to another conversation.")
    if info.epoch != epoch:
        raise BadCiphertextError("The sealed message is bound to another epoch than the frame's.")
    if info.client_message_id != client_message_id.bytes:
        raise BadCiphertextError("The sealed message is bound to another client_message_id.")


def _member_conversation(user_id: int, conversation_id: uuid.UUID, *, lock: bool) -> Conversation:
    """The conversation, if the user is an active member of it; otherwise ``NotFoundError``."""
    query = Conversation.objects.filter(
        id=conversation_id, memberships__user_id=user_id, memberships__user__is_active=True
    )
    if lock:
        query = query.select_for_update(of=("self",))
    conversation = query.first()
    if conversation is None:
        raise NotFoundError("No such conversation.")
    return conversation


@dataclass(frozen=True)
class SendRequest:
    user_id: int
    conversation_id: uuid.UUID
    client_message_id: uuid.UUID
    epoch: int
    ciphertext: bytes
    sender_identity: PublicIdentity


def _store_batch(requests: Sequence[SendRequest]) -> list[StoredMessage | MessagingError]:
    """Checks each sealed message, then stores the good ones in one transaction; one result
    per request, in order.

    The signature checks run here, on the writer's thread, so that they run beside the
    event loop rather than on it (libsodium releases the GIL).

    Retried once on an integrity error: two processes raced on a database without the
    row lock, and the second attempt reads what the winner stored.
    """
    results: list[StoredMessage | MessagingError | None] = []
    sound: list[SendRequest] = []
    for request in requests:
        try:
            check_sealed_message(
                request.ciphertext,
                request.sender_identity,
                request.conversation_id,
                request.epoch,
                request.client_message_id,
            )
        except BadCiphertextError as exc:
            results.append(exc)
            continue
        results.append(None)
        sound.append(request)
    if sound:
        try:
            with transaction.atomic():
                stored = iter(_store_batch_locked(sound))
        except IntegrityError:
            with transaction.atomic():
                stored = iter(_store_batch_locked(sound))
    return [result if result is not None else next(stored) for result in results]


def _store_batch_locked(requests: Sequence[SendRequest]) -> list[StoredMessage | MessagingError]:
    """The batch's statements, in SQL of their own (the ORM's per-row and per-expression
    costs were most of a message's cost): lock the conversations, read their members and
    any earlier use of the batch's message ids, insert the new rows, move ``last_seq``."""
    sql = _BatchSql.get()
    conversation_ids = sorted({r.conversation_id for r in requests})
    by_db_id = {sql.uuid(c): c for c in conversation_ids}
    db_ids = list(by_db_id)
    marks = ", ".join(["%s"] * len(db_ids))
    conversations: dict[uuid.UUID, list[Any]] = {}
    members: dict[uuid.UUID, dict[int, bool]] = {}
    with connection.cursor() as cursor:
        # Rows locked in one order by every writer, so that two batches never deadlock. The
        # lock serialises senders per conversation: sequence numbers follow commit order,
        # without gaps. (SQLite has no row locks; its write transaction serialises.)
        # The members come with the locked rows (they never change in a conversation).
        cursor.execute(sql.lock_conversations.format(marks=marks), db_ids)
        for db_id, status, current_epoch, last_seq, member_id, active in cursor.fetchall():
            conversation_id = by_db_id[db_id]
            conversations[conversation_id] = [status, current_epoch, last_seq]
            members.setdefault(conversation_id, {})[member_id] = bool(active)
        message_ids = list({sql.uuid(r.client_message_id) for r in requests})
        cursor.execute(
            sql.used_ids.format(marks=marks, ids=", ".join(["%s"] * len(message_ids))),
            db_ids + message_ids,
        )
        used = cursor.fetchall()
    known: dict[tuple[uuid.UUID, uuid.UUID], Message] = {}
    if used:  # resends: rare, so read with the ORM
        for m in Message.objects.filter(
            conversation_id__in=conversation_ids,
            client_message_id__in={r.client_message_id for r in requests},
        ):
            known[(m.conversation_id, m.client_message_id)] = m
    now = timezone.now()
    results: list[StoredMessage | MessagingError] = []
    new_rows: list[Message] = []
    for request in requests:
        conversation = conversations.get(request.conversation_id)
        member_ids = members.get(request.conversation_id, {})
        if conversation is None or not member_ids.get(request.user_id):
            results.append(NotFoundError("No such conversation."))
            continue
        key = (request.conversation_id, request.client_message_id)
        existing = known.get(key)
        if existing is not None:
            if existing.sender_id != request.user_id or bytes(existing.ciphertext) != (
                request.ciphertext
            ):
                results.append(
                    ClientMessageIdReusedError(
                        "This client_message_id was already used for another message."
                    )
                )
            else:
                results.append(_stored(existing, duplicate=True, member_ids=tuple(member_ids)))
            continue
        status, current_epoch, _ = conversation
        if status != Conversation.Status.ACTIVE:
            results.append(ConversationClosedError("The conversation is read-only."))
            continue
        if request.epoch != current_epoch:
            results.append(
                StaleEpochError(
                    f"Messages must use epoch {current_epoch}.", current_epoch=current_epoch
                )
            )
            continue
        conversation[2] += 1
        message = Message(
            conversation_id=request.conversation_id,
            seq=conversation[2],
            client_message_id=request.client_message_id,
            epoch=request.epoch,
            sender_id=request.user_id,
            ciphertext=request.ciphertext,
            created_at=now,
        )
        known[key] = message
        new_rows.append(message)
        results.append(_stored(message, duplicate=False, member_ids=tuple(member_ids)))
    if new_rows:
        db_now = sql.datetime(now)
        with connection.cursor() as cursor:
            rows: list[Any] = [
                (
                    sql.uuid(m.conversation_id),
                    m.seq,
                    sql.uuid(m.client_message_id),
                    m.epoch,
                    m.sender_id,
                    m.ciphertext,
                    db_now,
                )
                for m in new_rows
            ]
            # One statement each, whatever the batch's size: a round trip costs more than
            # a row.
            cursor.execute(
                sql.insert.format(rows=", ".join([sql.insert_row] * len(rows))),
                [value for row in rows for value in row],
            )
            touched = sorted({m.conversation_id for m in new_rows})
            cursor.execute(
                sql.advance.format(
                    cases=" ".join(["WHEN %s THEN %s"] * len(touched)),
                    marks=", ".join(["%s"] * len(touched)),
                ),
                [v for c in touched for v in (sql.uuid(c), conversations[c][2])]
                + [db_now]
                + [sql.uuid(c) for c in touched],
            )
    return results


class _BatchSql:
    """The statements of ``_store_batch_locked`` for the database in use, made once."""

    _made: dict[str, _BatchSql] = {}

    @classmethod
    def get(cls) -> _BatchSql:
        made = cls._made.get(connection.vendor)
        if made is None:
            made = cls._made[connection.vendor] = cls()
        return made

    def __init__(self) -> None:
        q = connection.ops.quote_name
        conversation = q(Conversation._meta.db_table)
        membership = q(Membership._meta.db_table)
        message = q(Message._meta.db_table)
        user = q(User._meta.db_table)
        lock = " FOR UPDATE OF c" if connection.features.has_select_for_update_of else ""
        # Table and column names come from the models, quoted; values are parameters.
        self.lock_conversations = (
            f"SELECT c.id, c.status, c.current_epoch, c.last_seq, m.user_id, u.is_active"
            f" FROM {conversation} c JOIN {membership} m ON m.conversation_id = c.id"
            f" JOIN {user} u ON u.id = m.user_id"
            f" WHERE c.id IN ({{marks}}) ORDER BY c.id{lock}"
        )
        # Table and column names come from the models, quoted; values are parameters.
        self.used_ids = (
            f"SELECT 1 FROM {message} WHERE conversation_id IN ({{marks}})"
            f" AND client_message_id IN ({{ids}})"
        )
        # Table and column names come from the models, quoted; values are parameters.
        self.insert = (
            f"INSERT INTO {message} (conversation_id, seq, client_message_id, epoch,"
            " sender_id, ciphertext, created_at) VALUES {rows}"
        )
        self.insert_row = "(%s, %s, %s, %s, %s, %s, %s)"
        # Table and column names come from the models, quoted; values are parameters.
        self.advance = (
            f"UPDATE {conversation} SET last_seq = CASE id {{cases}} END,"
            f" last_message_at = %s WHERE id IN ({{marks}})"
        )
        self._uuid_field = Message._meta.get_field("client_message_id")
        self._datetime_field = Message._meta.get_field("created_at")

    def uuid(self, value: uuid.UUID) -> Any:
        return self._uuid_field.get_db_prep_value(value, connection)

    def datetime(self, value: datetime) -> Any:
        return self._datetime_field.get_db_prep_value(value, connection)


def _stored(message: Message, *, duplicate: bool, member_ids: tuple[int, ...]) -> StoredMessage:
    return StoredMessage(
        conversation_id=message.conversation_id,
        seq=message.seq,
        client_message_id=message.client_message_id,
        epoch=message.epoch,
        sender_id=message.sender_id,
        ciphertext=bytes(message.ciphertext),
        created_at=message.created_at,
        duplicate=duplicate,
        member_ids=member_ids,
    )


_writer: Batcher[SendRequest, StoredMessage] = Batcher(
    _store_batch,
    max_batch=settings.CONFIDE_WRITE_BATCH,
    max_pending=settings.CONFIDE_MAX_PENDING_SENDS,
)


_capacity: TokenBucket | None = None


def _admit() -> None:
    """Refuses a new message at once, before any work on it, when this process is past
    what it can store and deliver: more messages a second than the operator's
    ``CONFIDE_MAX_SENDS_PER_SECOND``, or an event loop running late (messaging/load.py)."""
    global _capacity
    rate = settings.CONFIDE_MAX_SENDS_PER_SECOND
    if rate:
        if _capacity is None or _capacity.rate != rate:
            _capacity = TokenBucket(rate, max(1, rate // 4))
        wait = _capacity.take()
        if wait:
            raise OverloadedError(
                "The server is at capacity; nothing was stored. Retry shortly.",
                retry_after_ms=int(wait * 1000) + random.randint(50, 500),  # noqa: S311
            )
    if load.lag() * 1000 > settings.CONFIDE_MAX_LOOP_LAG_MS:
        raise OverloadedError(
            "The server is busy; nothing was stored. Retry shortly.", retry_after_ms=1000
        )


def submit_message(
    user_id: int,
    sender_identity: PublicIdentity,
    conversation_id: uuid.UUID,
    client_message_id: uuid.UUID,
    epoch: int,
    ciphertext: bytes,
) -> Coroutine[Any, Any, StoredMessage]:
    """Checks a sealed message and queues it for the writer, at once; returns what to await
    for the stored message (which raises ``BadCiphertextError`` if the seal does not check
    out). Raises ``OverloadedError`` at once.

    Queueing before awaiting keeps one socket's messages in the order it sent them while
    the socket goes on reading frames (docs/protocol.md: acks may arrive out of order).
    """
    _admit()
    future = _writer.enqueue(
        SendRequest(user_id, conversation_id, client_message_id, epoch, ciphertext, sender_identity)
    )
    return _stored_then_broadcast(future)


async def _stored_then_broadcast(future: Awaitable[StoredMessage]) -> StoredMessage:
    stored = await future
    if not stored.duplicate:
        await broadcast(stored.member_ids, stored.to_frame())
    return stored


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    conversation_id: uuid.UUID
    messages: tuple[dict[str, Any], ...]
    has_more: bool
    last_seq: int


def _frames(conversation_id: uuid.UUID, rows: Sequence[Message]) -> tuple[dict[str, Any], ...]:
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


def _messages_after(user_id: int, after: dict[uuid.UUID, int], limit: int) -> list[Page]:
    pages = []
    for conversation_id, seq in after.items():
        conversation = _member_conversation(user_id, conversation_id, lock=False)
        rows = list(
            Message.objects.filter(conversation=conversation, seq__gt=seq).order_by("seq")[
                : limit + 1
            ]
        )
        pages.append(
            Page(
                conversation_id,
                _frames(conversation_id, rows[:limit]),
                len(rows) > limit,
                conversation.last_seq,
            )
        )
    return pages


def _messages_before(
    user_id: int, conversation_id: uuid.UUID, before: int | None, limit: int
) -> Page:
    conversation = _member_conversation(user_id, conversation_id, lock=False)
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


sync_messages = in_db_thread(_messages_after)
history = in_db_thread(_messages_before)


def page_limit(requested: int | None) -> int:
    default: int = settings.CONFIDE_HISTORY_PAGE
    return default if requested is None else min(requested, default)


# --- read receipts and typing -------------------------------------------------------------


def _mark_read(user_id: int, conversation_id: uuid.UUID, seq: int) -> tuple[int, tuple[int, ...]]:
    with transaction.atomic():
        conversation = _member_conversation(user_id, conversation_id, lock=False)
        seq = min(seq, conversation.last_seq)
        Membership.objects.filter(
            conversation=conversation, user_id=user_id, last_read_seq__lt=seq
        ).update(last_read_seq=seq)
        member_ids = tuple(
            Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True)
        )
        return seq, member_ids


_mark_read_async = in_db_thread(_mark_read)


async def mark_read(user_id: int, conversation_id: uuid.UUID, seq: int) -> int:
    """Records that the user has read up to ``seq`` and tells the members."""
    seq, member_ids = await _mark_read_async(user_id, conversation_id, seq)
    await broadcast(
        member_ids,
        {"type": "read", "conversation": str(conversation_id), "user": user_id, "seq": seq},
    )
    return seq


def _member_ids(user_id: int, conversation_id: uuid.UUID) -> tuple[int, ...]:
    conversation = _member_conversation(user_id, conversation_id, lock=False)
    return tuple(
        Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True)
    )


member_ids_for = in_db_thread(_member_ids)


async def typing(user_id: int, conversation_id: uuid.UUID) -> None:
    """Tells the other members that the user is typing; nothing is stored."""
    members = await member_ids_for(user_id, conversation_id)
    others = [m for m in members if m != user_id]
    await broadcast(
        others, {"type": "typing", "conversation": str(conversation_id), "user": user_id}
    )


# --- epochs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedEnvelope:
    recipient_id: int
    envelope: bytes


def check_envelopes(
    conversation_id: uuid.UUID,
    epoch: int,
    wrapper: PublicIdentity,
    envelopes: Sequence[tuple[int, bytes]],
    members: dict[int, PublicIdentity],
) -> list[CheckedEnvelope]:
    """One envelope per member, each signed by ``wrapper`` and bound to its member and epoch."""
    recipients = [recipient for recipient, _ in envelopes]
    if sorted(recipients) != sorted(members):
        raise BadEnvelopesError("There must be exactly one envelope for each member.")
    checked = []
    for recipient_id, envelope in envelopes:
        try:
            info = crypto.verify_envelope(envelope, wrapper)
        except CryptoError as exc:
            raise BadEnvelopesError(f"Envelope for member {recipient_id}: {exc}") from None
        if info.conversation_id != conversation_id.bytes or info.epoch != epoch:
            raise BadEnvelopesError(
                f"Envelope for member {recipient_id} is bound to another conversation or epoch."
            )
        if info.recipient_enc_pk != members[recipient_id].enc_key:
            raise BadEnvelopesError(
                f"Envelope for member {recipient_id} is not wrapped to that member's key."
            )
        checked.append(CheckedEnvelope(recipient_id, envelope))
    return checked


def _start_epoch(
    user_id: int, conversation_id: uuid.UUID, epoch: int, envelopes: Sequence[tuple[int, bytes]]
) -> tuple[CheckedEnvelope, ...]:
    with transaction.atomic():
        conversation = _member_conversation(user_id, conversation_id, lock=True)
        if conversation.status != Conversation.Status.ACTIVE:
            raise ConversationClosedError("The conversation is read-only.")
        if epoch != conversation.current_epoch + 1:
            raise StaleEpochError(
                f"The next epoch is {conversation.current_epoch + 1}.",
                current_epoch=conversation.current_epoch,
            )
        members = {
            user.pk: PublicIdentity.from_bytes(bytes(user.public_identity))
            for user in User.objects.filter(memberships__conversation=conversation)
        }
        checked = check_envelopes(conversation_id, epoch, members[user_id], envelopes, members)
        KeyEnvelope.objects.bulk_create(
            KeyEnvelope(
                conversation=conversation,
                epoch=epoch,
                recipient_id=c.recipient_id,
                wrapper_id=user_id,
                envelope=c.envelope,
            )
            for c in checked
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            current_epoch=epoch, epoch_started_at=timezone.now()
        )
        return tuple(checked)


_start_epoch_async = in_db_thread(_start_epoch)


async def start_epoch(
    user_id: int, conversation_id: uuid.UUID, epoch: int, envelopes: Sequence[tuple[int, bytes]]
) -> None:
    """Stores a new epoch's envelopes and sends each member their own."""
    checked = await _start_epoch_async(user_id, conversation_id, epoch, envelopes)
    for item in checked:
        await broadcast(
            [item.recipient_id],
            {
                "type": "epoch",
                "conversation": str(conversation_id),
                "epoch": epoch,
                "wrapper": user_id,
                "envelope": crypto.b64encode(item.envelope),
            },
        )


# --- sessions -----------------------------------------------------------------------------


async def close_user_sockets(user_id: int, session_key: str | None = None) -> None:
    """Closes the user's sockets (only those of one session, when it is given)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(
            user_group(user_id), {"type": "session.revoked", "session_key": session_key}
        )
    except Exception:
        # Sockets also re-check their session (consumer.SESSION_RECHECK_SECONDS).
        log.warning("channel layer send failed while closing sockets", exc_info=True)


__all__ = [
    "StoredMessage",
    "broadcast",
    "close_user_sockets",
    "history",
    "mark_read",
    "submit_message",
    "start_epoch",
    "sync_messages",
    "typing",
    "user_group",
]
