"""Cryptographic erasure of a discharged conversation (docs/records.md; docs/operations.md,
"Retention, erasure and backups").

Every key envelope of the conversation (the only copies of its epoch keys the server
keeps), every message's ciphertext, every attachment (its row and its stored parts), every
sealed disclosure record and every notice are destroyed; the conversation's row stays as a
tombstone (status ``erased``, ``erased_at``), its memberships stay with their labels
cleared, and the audit log keeps the entries.

It runs in three steps, each committed before the next:

1. :func:`begin`: the status becomes ``erasing`` under the conversation's row lock (the
   lock every writer takes before it reads the status), the members are told, and
   ``erasure_started`` is audited. From then on nothing of the history is served: a
   ``sync`` or ``history`` answers with no message and ``status: erasing``, so a client
   never sees part of the history without being told why.
2. :func:`destroy`: the rows go in batches (``BATCH`` a statement), envelopes first, so that
   the keys are gone before the bulk of the ciphertext is. Attachments go
   ``attachments.BATCH`` at a time, their stored parts deleted under their row locks before
   the rows are, so that an interruption never leaves stored bytes that no row names.
3. :func:`finish`: under the row lock again, whatever is left goes (a row written by a
   writer that did not look at the status), the status becomes ``erased`` with
   ``erased_at``, the members are told, and ``conversation_erased`` is audited.

Interrupted anywhere (the process killed, the database lost), it resumes: the job is put
back by the worker (``portal.worker.requeue_abandoned``), and the periodic sweep
(:func:`sweep`, a duty of ``portal.periodic``) takes up every conversation still
``erasing``. Each step can run again; only the first ``finish`` records the erasure.

What starts it: an admin's recorded request (:func:`request_erasure`, which enqueues
:func:`erase_job` in the same transaction), or the end of the practice's retention after
discharge (``Practice.retention_years``), found by :func:`sweep`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import task

from accounts.models import Practice, User
from audit.log import record
from messaging.models import (
    Attachment,
    Conversation,
    Disclosure,
    KeyEnvelope,
    Membership,
    Message,
    Notice,
)
from messaging.services import attachments, events
from messaging.services.discharge import member_ids, years_after
from protocol.audit import AuditKind
from protocol.errors import BadRequestError, NotFoundError
from protocol.to_client import ConversationStatusEvent

__all__ = [
    "BATCH",
    "Destroyed",
    "begin",
    "destroy",
    "erase",
    "erase_job",
    "finish",
    "request_erasure",
    "sweep",
]

log = logging.getLogger(__name__)

# Rows deleted a statement: each batch is a short transaction of its own, so an erasure of
# a long history never holds a lock for long.
BATCH = 500

# In this order: the keys first.
_KINDS: tuple[tuple[str, type[models.Model]], ...] = (
    ("envelopes", KeyEnvelope),
    ("messages", Message),
    ("attachments", Attachment),
    ("disclosures", Disclosure),
    ("notices", Notice),
)


@dataclass
class Destroyed:
    """How many rows of each kind one run destroyed."""

    counts: dict[str, int] = field(default_factory=lambda: {name: 0 for name, _ in _KINDS})

    def add(self, name: str, count: int) -> None:
        self.counts[name] += count


def _locked(conversation_id: uuid.UUID) -> Conversation | None:
    return Conversation.objects.select_for_update().filter(pk=conversation_id).first()


def request_erasure(
    admin: User, conversation_id: uuid.UUID, reason: str, request: HttpRequest | None = None
) -> Conversation:
    """An admin records a request to erase a discharged conversation of their practice now,
    rather than when retention ends (``reason``: a category of ``ErasureReason``). The job
    that erases it is enqueued in the same transaction: it exists exactly when the request
    does. A conversation still active is refused (its therapist discharges it first); one
    already requested, being erased or erased is refused, naming when."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .filter(pk=conversation_id, practice_id=admin.practice_id)
            .first()
        )
        if conversation is None:
            raise NotFoundError("No such conversation.")
        if conversation.status == Conversation.Status.ACTIVE:
            raise BadRequestError(
                "Only a discharged conversation can be erased: its therapist discharges it first."
            )
        if conversation.status == Conversation.Status.ERASED:
            raise BadRequestError(
                f"The conversation was already erased on {conversation.erased_at:%Y-%m-%d}."
            )
        if conversation.erasure_requested_at is not None:
            raise BadRequestError(
                "Its erasure was already requested on "
                f"{conversation.erasure_requested_at:%Y-%m-%d}; it runs shortly."
            )
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(
            erasure_requested_at=now, erasure_requested_by=admin
        )
        conversation.erasure_requested_at = now
        conversation.erasure_requested_by = admin
        erase_job.enqueue(str(conversation.pk), "requested")
        record(
            AuditKind.ERASURE_REQUESTED,
            request=request,
            actor=admin,
            subject=f"conversation:{conversation.pk}",
            details={"reason": reason},
        )
    log.info("admin %s requested the erasure of conversation %s", admin.pk, conversation.pk)
    return conversation


def begin(conversation_id: uuid.UUID, why: str) -> bool:
    """Step 1: ``discharged`` becomes ``erasing``, committed and audited, the members told.
    True when there is something to erase (it was discharged, or is being erased already:
    a resumed erasure), False for one erased already or still active."""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation is None:
            return False
        if conversation.status == Conversation.Status.ERASING:
            return True
        if conversation.status != Conversation.Status.DISCHARGED:
            if conversation.status == Conversation.Status.ACTIVE:
                log.error("conversation %s is active: it is not erased", conversation_id)
            return False
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.ERASING)
        events.publish_on_commit(
            member_ids(conversation.pk),
            ConversationStatusEvent(conversation=conversation.pk, status="erasing", at=now),
        )
        record(
            AuditKind.ERASURE_STARTED,
            practice_id=conversation.practice_id,
            subject=f"conversation:{conversation.pk}",
            details={"why": why, "last_seq": conversation.last_seq},
        )
    log.info("erasure of conversation %s began (%s)", conversation_id, why)
    return True


def _batches(model: type[models.Model], conversation_id: uuid.UUID) -> Iterator[int]:
    """Deletes the conversation's rows of ``model``, ``BATCH`` at a time, each batch
    committed; yields each batch's count."""
    if model is Attachment:
        yield from _attachment_batches(conversation_id)
        return
    while True:
        with transaction.atomic():
            ids = list(
                model._default_manager.filter(conversation_id=conversation_id).values_list(
                    "pk", flat=True
                )[:BATCH]
            )
            if not ids:
                return
            count, _ = model._default_manager.filter(pk__in=ids).delete()
        yield count


def _attachment_batches(conversation_id: uuid.UUID) -> Iterator[int]:
    """Deletes the conversation's attachments with their stored parts, ``attachments.BATCH``
    at a time; yields each batch's count."""
    while True:
        ids = list(
            Attachment.objects.filter(conversation_id=conversation_id)
            .order_by("pk")
            .values_list("pk", flat=True)[: attachments.BATCH]
        )
        if not ids:
            return
        yield attachments.delete_attachments(ids)


def destroy(
    conversation_id: uuid.UUID, destroyed: Destroyed, *, stop_after: int | None = None
) -> bool:
    """Step 2: the rows go in batches, envelopes first. ``stop_after`` (for the tests:
    an interruption) stops after that many batches; returns whether everything went."""
    _secure_delete()
    batches = 0
    for name, model in _KINDS:
        for count in _batches(model, conversation_id):
            destroyed.add(name, count)
            batches += 1
            if stop_after is not None and batches >= stop_after:
                return False
    return True


def finish(conversation_id: uuid.UUID, destroyed: Destroyed) -> bool:
    """Step 3: under the row lock, what is left goes, and the conversation becomes the
    tombstone ``erased``; audited once (False when another run finished it first)."""
    with transaction.atomic():
        conversation = _locked(conversation_id)
        if conversation is None or conversation.status != Conversation.Status.ERASING:
            return False
        for name, model in _KINDS:
            if model is Attachment:
                for count in _attachment_batches(conversation_id):
                    destroyed.add(name, count)
                continue
            count, _ = model._default_manager.filter(conversation_id=conversation_id).delete()
            destroyed.add(name, count)
        Membership.objects.filter(conversation_id=conversation_id).update(
            label="", archived_at=None
        )
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.ERASED, erased_at=now
        )
        events.publish_on_commit(
            member_ids(conversation.pk),
            ConversationStatusEvent(conversation=conversation.pk, status="erased", at=now),
        )
        # The counts are this run's (a resumed erasure's first run counted the rest).
        record(
            AuditKind.CONVERSATION_ERASED,
            practice_id=conversation.practice_id,
            subject=f"conversation:{conversation.pk}",
            details=dict(destroyed.counts),
        )
    log.info("conversation %s erased: %s", conversation_id, destroyed.counts)
    return True


def erase(conversation_id: uuid.UUID, why: str = "requested") -> bool:
    """The three steps; True when this run finished the erasure."""
    if not begin(conversation_id, why):
        return False
    destroyed = Destroyed()
    destroy(conversation_id, destroyed)
    return finish(conversation_id, destroyed)


@task()
def erase_job(conversation_id: str, why: str) -> None:
    """The job an erasure request enqueues (``django_tasks``, the database backend)."""
    erase(uuid.UUID(conversation_id), why)


def due(now: dt.datetime | None = None) -> list[tuple[uuid.UUID, str]]:
    """What the sweep erases: every conversation still ``erasing`` (an interrupted run),
    every discharged one whose erasure was requested (should its job be lost), and every
    discharged one whose practice's retention has ended."""
    now = now or timezone.now()
    found: dict[uuid.UUID, str] = {}
    for pk in Conversation.objects.filter(status=Conversation.Status.ERASING).values_list(
        "pk", flat=True
    ):
        found[pk] = "resumed"
    discharged = Conversation.objects.filter(status=Conversation.Status.DISCHARGED)
    for pk in discharged.filter(erasure_requested_at__isnull=False).values_list("pk", flat=True):
        found.setdefault(pk, "requested")
    for practice_id, years in Practice.objects.values_list("pk", "retention_years"):
        # A day's margin for 29 February; each is then checked exactly, as the console
        # shows it (``erase_after``).
        cutoff = years_after(now, -years) + dt.timedelta(days=1)
        candidates = discharged.filter(practice_id=practice_id, discharged_at__lte=cutoff)
        for pk, discharged_at in candidates.values_list("pk", "discharged_at"):
            if discharged_at is not None and years_after(discharged_at, years) <= now:
                found.setdefault(pk, "retention")
    return list(found.items())


def sweep(now: dt.datetime | None = None) -> int:
    """Erases whatever is due (:func:`due`); one that fails is logged and tried again at
    the next sweep. Returns how many this sweep finished."""
    finished = 0
    for conversation_id, why in due(now):
        try:
            finished += erase(conversation_id, why)
        except Exception:
            log.exception("the erasure of conversation %s failed; it resumes", conversation_id)
    return finished


def _secure_delete() -> None:
    """On SQLite, deleted rows' bytes are overwritten with zeros rather than left in free
    pages of the file (PostgreSQL: docs/operations.md, "Retention, erasure and backups")."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")
