"""The writer of messages: the checks and the SQL that store a batch of sends in one
transaction, on the writer's own thread and database connection (messaging/batching.py).

A batch is three statements whatever its size on PostgreSQL (lock the conversations with
their members, look up the batch's message ids, insert the new rows and move ``last_seq``
in one), four elsewhere, written out here because the ORM's per-row and per-expression
work was most of a message's cost (docs/performance.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import crypto
from accounts.models import User
from crypto import CryptoError, PublicIdentity
from messaging.models import Conversation, Membership, Message
from messaging.services import notifications
from protocol.errors import (
    ApiError,
    BadCiphertextError,
    ClientMessageIdReusedError,
    ConversationClosedError,
    NotFoundError,
    StaleEpochError,
)
from protocol.to_client import MessageFrame


@dataclass(frozen=True)
class SendRequest:
    """One ``send`` frame, as the writer needs it."""

    user_id: int
    conversation_id: uuid.UUID
    client_message_id: uuid.UUID
    epoch: int
    ciphertext: bytes
    sender_identity: PublicIdentity
    # The channel of the socket that sent it, which its ack tells and its push skips.
    origin: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A message as stored; ``duplicate`` when a resend found it already there."""

    conversation_id: uuid.UUID
    seq: int
    client_message_id: uuid.UUID
    epoch: int
    sender_id: int
    ciphertext: bytes
    created_at: datetime
    duplicate: bool
    member_ids: tuple[int, ...]
    origin: str | None = None

    def to_frame(self) -> MessageFrame:
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
) -> MessageFrame:
    return MessageFrame(
        conversation=conversation_id,
        seq=seq,
        client_message_id=client_message_id,
        epoch=epoch,
        sender=sender_id,
        ciphertext=crypto.b64encode(ciphertext),
        sent_at=created_at,
    )


def check_sealed_message(
    ciphertext: bytes,
    sender_identity: PublicIdentity,
    conversation_id: uuid.UUID,
    epoch: int,
    client_message_id: uuid.UUID,
) -> None:
    """The sealed message is well formed, signed by the sender, and bound to this frame's
    fields. The server holds no key, so this is everything it can check."""
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


def store_batch(requests: Sequence[SendRequest]) -> list[StoredMessage | ApiError]:
    """Checks each sealed message, then stores the good ones in one transaction; one result
    per request, in order.

    The signature checks run here, on the writer's thread, so that they run beside the
    event loop rather than on it (libsodium releases the GIL).

    Retried once on an integrity error: two processes raced on a database without the
    row lock, and the second attempt reads what the winner stored.
    """
    results: list[StoredMessage | ApiError | None] = []
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
                stored = iter(_store_and_schedule(sound))
        except IntegrityError:
            with transaction.atomic():
                stored = iter(_store_and_schedule(sound))
    return [result if result is not None else next(stored) for result in results]


def _store_and_schedule(requests: Sequence[SendRequest]) -> list[StoredMessage | ApiError]:
    """Stores the messages and, in the same transaction, the job that may tell their
    recipients by email (messaging.services.notifications): a job exists exactly when they do."""
    results = _store_locked(requests)
    notifications.schedule([r for r in results if isinstance(r, StoredMessage)])
    return results


def _store_locked(requests: Sequence[SendRequest]) -> list[StoredMessage | ApiError]:
    sql = BatchSql.get()
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
        # The batch's (conversation, message id) pairs looked up as pairs: one index probe
        # each, however long the conversations' histories (docs/performance.md).
        pairs = sorted({(r.conversation_id, r.client_message_id) for r in requests})
        cursor.execute(
            sql.used_ids.format(pairs=", ".join([sql.pair] * len(pairs))),
            [sql.uuid(value) for pair in pairs for value in pair],
        )
        used = [row[0] for row in cursor.fetchall()]
    known: dict[tuple[uuid.UUID, uuid.UUID], Message] = {}
    if used:  # resends: rare, so read with the ORM
        for m in Message.objects.filter(pk__in=used):
            known[(m.conversation_id, m.client_message_id)] = m
    now = timezone.now()
    results: list[StoredMessage | ApiError] = []
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
                results.append(_stored(existing, request, duplicate=True, member_ids=member_ids))
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
        results.append(_stored(message, request, duplicate=False, member_ids=member_ids))
    if new_rows:
        _insert(sql, new_rows, {c: state[2] for c, state in conversations.items()}, now)
    return results


def _insert_arrays(
    statement: str, new_rows: list[Message], last_seqs: dict[uuid.UUID, int], db_now: Any
) -> None:
    """PostgreSQL: the new rows as one array per column and ``last_seq`` moved, in one
    statement (one round trip), bound by the server (a cursor of psycopg's own on Django's
    connection, in its transaction): the statement's text is the same for every batch, and
    the ciphertexts travel as binary values, never quoted into SQL text."""
    import psycopg

    touched = sorted(last_seqs)
    # Django's own error wrapper, as its cursors have: a unique violation raised here is
    # Django's IntegrityError, which `store_batch` retries on.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        # Never a prepared statement: a pooler in transaction mode (PgBouncer) would run
        # the next batch on another server connection, which has not prepared it.
        cursor.execute(
            statement,
            (
                db_now,
                [m.conversation_id for m in new_rows],
                [m.seq for m in new_rows],
                [m.client_message_id for m in new_rows],
                [m.epoch for m in new_rows],
                [m.sender_id for m in new_rows],
                [m.ciphertext for m in new_rows],
                db_now,
                touched,
                [last_seqs[c] for c in touched],
            ),
            prepare=False,
        )


def _insert(
    sql: BatchSql, new_rows: list[Message], last_seqs: dict[uuid.UUID, int], now: datetime
) -> None:
    """The new rows and ``last_seq`` moved, whatever the batch's size: one statement on
    PostgreSQL, two elsewhere; a round trip costs more than a row."""
    db_now = sql.datetime(now)
    touched = sorted({m.conversation_id for m in new_rows})
    if sql.insert_arrays:
        _insert_arrays(sql.insert_arrays, new_rows, {c: last_seqs[c] for c in touched}, db_now)
        return
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
    with connection.cursor() as cursor:
        cursor.execute(
            sql.insert.format(rows=", ".join([sql.insert_row] * len(rows))),
            [value for row in rows for value in row],
        )
        cursor.execute(
            sql.advance.format(
                cases=" ".join(["WHEN %s THEN %s"] * len(touched)),
                marks=", ".join(["%s"] * len(touched)),
            ),
            [v for c in touched for v in (sql.uuid(c), last_seqs[c])]
            + [db_now]
            + [sql.uuid(c) for c in touched],
        )


class BatchSql:
    """The statements of a batch for the database in use, made once per vendor."""

    _made: dict[str, BatchSql] = {}

    @classmethod
    def get(cls) -> BatchSql:
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
        self.used_ids = (
            f"SELECT id FROM {message} WHERE (conversation_id, client_message_id)"
            " IN (VALUES {pairs})"
        )
        self.pair = "(%s, %s)"
        self.insert = (
            f"INSERT INTO {message} (conversation_id, seq, client_message_id, epoch,"
            " sender_id, ciphertext, created_at) VALUES {rows}"
        )
        self.insert_row = "(%s, %s, %s, %s, %s, %s, %s)"
        # The insert and the move of ``last_seq`` in one statement: the conversations'
        # rows are locked already, and neither part reads what the other writes.
        self.insert_arrays = (
            (
                f"WITH new AS (INSERT INTO {message} (conversation_id, seq, client_message_id,"
                " epoch, sender_id, ciphertext, created_at) SELECT c, s, m, e, u, b, %s"
                " FROM unnest(%s::uuid[], %s::bigint[], %s::uuid[], %s::integer[],"
                " %s::bigint[], %s::bytea[]) AS t(c, s, m, e, u, b))"
                f" UPDATE {conversation} SET last_seq = v.s, last_message_at = %s"
                f" FROM unnest(%s::uuid[], %s::bigint[]) AS v(c, s) WHERE {conversation}.id = v.c"
            )
            if connection.vendor == "postgresql"
            else ""
        )
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


def _stored(
    message: Message, request: SendRequest, *, duplicate: bool, member_ids: Iterable[int]
) -> StoredMessage:
    return StoredMessage(
        conversation_id=message.conversation_id,
        seq=message.seq,
        client_message_id=message.client_message_id,
        epoch=message.epoch,
        sender_id=message.sender_id,
        ciphertext=bytes(message.ciphertext),
        created_at=message.created_at,
        duplicate=duplicate,
        member_ids=tuple(member_ids),
        origin=request.origin,
    )
