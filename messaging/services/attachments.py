"""Attachments: the encrypted files members send, as the server keeps them
(docs/protocol.md, "Attachments"; crypto/SPEC.md, "Attachments").

A client encrypts a file into one stream before any of it leaves the device; the server
stores that stream's bytes and serves them back, and learns only its length, who uploaded
it, to which conversation and when. The key, the file's name, type and size travel sealed
in the message that presents it.

An upload, step by step:

1. :func:`start_upload`: an active member of an active conversation declares the stream's
   length; it must be a length some file makes, of a file within
   ``CONFIDE_ATTACHMENT_MAX_BYTES``, and fit the practice's quota
   (``CONFIDE_ATTACHMENT_QUOTA_BYTES``, counting every stored stream, complete or not),
   decided under the practice's row lock so that two uploads cannot both take its last
   bytes. Nothing is stored before these checks.
2. :func:`store_part`: the uploader sends each part (``ATTACHMENT_PART_BYTES``, the last
   the rest). The same part sent again with the same bytes changes nothing (a resumed
   upload); with other bytes it is refused, and the stored part kept.
3. :func:`complete_upload`: the server reads the stored parts back, computes the stream's
   digest and compares it with the client's; only a match completes it. From then on any
   member may read it (:func:`readable`), also once the conversation is discharged.

An upload left incomplete ``CONFIDE_ATTACHMENT_ABANDON_HOURS`` after it began is deleted
with its parts by :func:`collect_abandoned`, a duty of ``portal.periodic``; an erased
conversation's attachments go with it (``services.erasure``, :func:`delete_attachments`).

Why the locks: a part is written to storage while its attachment's row is locked, and every
deletion of stored parts locks the rows first; so no part is written once its attachment's
deletion began, which would leave an object that no row names and nothing deletes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

import crypto
from accounts.agreement import has_accepted_current
from accounts.models import Practice, Role, User
from crypto.attachment import attachment_ciphertext_size, attachment_digest_hasher
from messaging import parts
from messaging.models import Attachment, AttachmentPart, Conversation
from messaging.services.common import member_conversation
from messaging.services.discharge import closed_error
from protocol.errors import (
    AgreementRequiredError,
    AttachmentIncompleteError,
    AttachmentTooLargeError,
    BadRequestError,
    ConversationClosedError,
    DigestMismatchError,
    NotFoundError,
    PartConflictError,
    QuotaExceededError,
)
from protocol.limits import ATTACHMENT_PART_BYTES

__all__ = [
    "BATCH",
    "Upload",
    "collect_abandoned",
    "complete_upload",
    "delete_attachments",
    "file_size_of",
    "readable",
    "start_upload",
    "store_part",
    "upload_state",
]

log = logging.getLogger(__name__)

# Attachments deleted in one transaction (each may have many parts to delete in storage).
BATCH = 20

_SMALLEST_STREAM = attachment_ciphertext_size(1)


@dataclass(frozen=True)
class Upload:
    """An attachment and the numbers of its stored parts, in order."""

    attachment: Attachment
    stored: list[int]

    @property
    def expires_at(self) -> dt.datetime | None:
        """When it is deleted unless completed first (None once complete)."""
        if self.attachment.completed_at is not None:
            return None
        return self.attachment.created_at + _abandon_after()


def _abandon_after() -> dt.timedelta:
    return dt.timedelta(hours=settings.CONFIDE_ATTACHMENT_ABANDON_HOURS)


# --- checks ---------------------------------------------------------------------------------


def file_size_of(stream_size: int, max_file: int) -> int:
    """The size of the file whose stream is ``stream_size`` bytes long, if one of 1 to
    ``max_file`` bytes makes exactly that stream; otherwise ``BadRequestError`` (no file
    makes it; an empty file) or ``AttachmentTooLargeError``."""
    if stream_size < _SMALLEST_STREAM:
        raise BadRequestError(
            f"A stream of {stream_size} bytes holds no file: the shortest, that of a 1-byte "
            f"file, is {_SMALLEST_STREAM} bytes. An empty file is not sent as an attachment."
        )
    longest = attachment_ciphertext_size(max_file)
    if stream_size > longest:
        raise AttachmentTooLargeError(
            f"Files of up to {_amount(max_file)} can be attached here (a stream of at most "
            f"{longest:,} bytes); this one's stream is {_amount(stream_size)}.",
            max_bytes=max_file,
        )
    # The smallest file whose stream is at least as long (the length grows with the file).
    low, high = 1, max_file
    while low < high:
        middle = (low + high) // 2
        if attachment_ciphertext_size(middle) < stream_size:
            low = middle + 1
        else:
            high = middle
    if attachment_ciphertext_size(low) != stream_size:
        raise BadRequestError(
            f"No file makes a stream of {stream_size:,} bytes: a file of {low - 1:,} bytes "
            f"makes {attachment_ciphertext_size(low - 1):,}, one of {low:,} bytes "
            f"{attachment_ciphertext_size(low):,}."
        )
    return low


def _member_attachment(user: User, attachment_id: uuid.UUID, *, lock: bool) -> Attachment:
    """The attachment, if the user is an active member of its conversation and may see it:
    its uploader always, the other members once it is complete. ``NotFoundError``
    otherwise, the same answer as for one that does not exist."""
    query = Attachment.objects.select_related("conversation").filter(
        pk=attachment_id,
        conversation__memberships__user_id=user.pk,
        conversation__memberships__user__is_active=True,
    )
    if lock:
        query = query.select_for_update(of=("self",))
    attachment = query.first()
    if attachment is None or (
        attachment.completed_at is None and attachment.uploader_id != user.pk
    ):
        raise NotFoundError("No such attachment.")
    return attachment


def _own_upload(user: User, attachment_id: uuid.UUID, *, lock: bool) -> Attachment:
    """The attachment, if the user uploaded it (``NotFoundError`` for anyone else)."""
    attachment = _member_attachment(user, attachment_id, lock=lock)
    if attachment.uploader_id != user.pk:
        raise NotFoundError("No such attachment.")
    return attachment


def _require_active(conversation: Conversation) -> None:
    """Nothing is added to a conversation that is not active (discharged: read-only)."""
    if conversation.status != Conversation.Status.ACTIVE:
        raise closed_error(conversation)


def _require_readable(conversation: Conversation) -> None:
    """A discharged conversation's attachments are still read; nothing of one being erased."""
    if conversation.status not in (Conversation.Status.ACTIVE, Conversation.Status.DISCHARGED):
        raise ConversationClosedError(
            "This conversation is being erased: its attachments are no longer served."
        )


def _missing(attachment: Attachment) -> list[int]:
    """The parts not stored yet, in order (one query, whatever the number of parts)."""
    stored = set(_stored(attachment))
    return [number for number in range(attachment.parts) if number not in stored]


def _stored(attachment: Attachment) -> list[int]:
    return list(
        AttachmentPart.objects.filter(attachment=attachment)
        .order_by("number")
        .values_list("number", flat=True)
    )


# --- an upload ------------------------------------------------------------------------------


def start_upload(user: User, conversation_id: uuid.UUID, size: int) -> Upload:
    """Reserves ``size`` bytes of stream for an upload to the conversation, of which
    ``user`` is an active member; refused, before anything is stored, for a conversation
    that is not active (``conversation_closed``), a client who has not accepted the current
    agreement, a length no file makes or an empty file (``bad_request``), a file over the
    limit (``attachment_too_large``) and a practice over its quota (``quota_exceeded``)."""
    with transaction.atomic():
        conversation = member_conversation(user.pk, conversation_id, lock=True)
        _require_active(conversation)
        if user.role == Role.CLIENT and not has_accepted_current(user.pk, user.practice_id):
            raise AgreementRequiredError(
                "Accept your practice's current messaging agreement before sending files."
            )
        file_size_of(size, settings.CONFIDE_ATTACHMENT_MAX_BYTES)
        # One upload of the practice at a time decides on its quota.
        Practice.objects.select_for_update().filter(pk=conversation.practice_id).first()
        used = (
            Attachment.objects.filter(conversation__practice_id=conversation.practice_id)
            .aggregate(total=Sum("size"))
            .get("total")
        ) or 0
        quota = settings.CONFIDE_ATTACHMENT_QUOTA_BYTES
        if used + size > quota:
            left = max(0, quota - used)
            raise QuotaExceededError(
                f"The practice's attachments would pass its quota of {_amount(quota)}: "
                f"{_amount(left)} is left, and this file's stream is {_amount(size)}. "
                "Nothing was stored; the practice's admin can raise the quota.",
                remaining_bytes=left,
            )
        attachment = Attachment.objects.create(
            conversation=conversation,
            uploader=user,
            size=size,
            part_size=ATTACHMENT_PART_BYTES,
        )
    log.info(
        "attachment %s begun in conversation %s: %d bytes in %d parts",
        attachment.pk,
        conversation.pk,
        size,
        attachment.parts,
    )
    return Upload(attachment, [])


def store_part(user: User, attachment_id: uuid.UUID, number: int, data: bytes) -> Upload:
    """Stores part ``number`` of the user's own incomplete upload. Sent again with the same
    bytes, it is accepted and nothing is written; with other bytes, ``part_conflict``, and
    the stored part stays as it was."""
    digest = hashlib.blake2b(data, digest_size=32).digest()
    with transaction.atomic():
        attachment = _own_upload(user, attachment_id, lock=True)
        _require_active(attachment.conversation)
        if attachment.completed_at is not None:
            raise BadRequestError("This attachment is complete: no part of it can be sent now.")
        last = attachment.parts - 1
        if not 0 <= number <= last:
            raise BadRequestError(f"This upload has parts 0 to {last}; there is no part {number}.")
        expected = attachment.part_length(number)
        if len(data) != expected:
            which = "the last part" if number == last else f"part {number}"
            raise BadRequestError(
                f"Part {number} must be exactly {expected:,} bytes ({which} of a "
                f"{attachment.size:,}-byte stream in parts of {attachment.part_size:,}); "
                f"{len(data):,} were sent."
            )
        existing = AttachmentPart.objects.filter(attachment=attachment, number=number).first()
        if existing is None:
            parts.write(attachment.pk, number, data)
            AttachmentPart.objects.create(
                attachment=attachment, number=number, size=len(data), digest=digest
            )
        elif not hmac.compare_digest(bytes(existing.digest), digest):
            raise PartConflictError(
                f"Part {number} is already stored with other bytes, and is kept as it is. "
                "A part is sent again only with the bytes sent the first time; to send "
                "another file, begin a new attachment."
            )
        stored = _stored(attachment)
    return Upload(attachment, stored)


def upload_state(user: User, attachment_id: uuid.UUID) -> Upload:
    """The attachment and its stored parts: for its uploader, to resume, and for any member
    once complete."""
    attachment = _member_attachment(user, attachment_id, lock=False)
    _require_readable(attachment.conversation)
    return Upload(attachment, _stored(attachment))


def complete_upload(user: User, attachment_id: uuid.UUID, digest: bytes) -> Upload:
    """Completes the user's upload once every part is stored and the stream they make has
    ``digest``; the stream is read back from storage a few hundred KiB at a time. Completing
    again with the same digest answers the same; any refusal leaves it incomplete."""
    attachment = _own_upload(user, attachment_id, lock=False)
    if attachment.completed_at is not None:
        return _completed_again(attachment, digest)
    _require_active(attachment.conversation)
    recorded = {
        number: bytes(part_digest)
        for number, part_digest in AttachmentPart.objects.filter(attachment=attachment).values_list(
            "number", "digest"
        )
    }
    missing = [number for number in range(attachment.parts) if number not in recorded]
    if missing:
        raise AttachmentIncompleteError(
            f"{_numbers(missing).capitalize()} of {attachment.parts} "
            f"{'is' if len(missing) == 1 else 'are'} not stored yet: send "
            f"{'it' if len(missing) == 1 else 'them'}, then complete.",
            missing_parts=missing,
        )
    computed, damaged = _read_back(attachment, recorded)
    if damaged:
        _drop_damaged(attachment, damaged, recorded)
        raise AttachmentIncompleteError(
            f"The storage did not keep {_numbers(damaged)} as it was received: "
            f"{'it was' if len(damaged) == 1 else 'they were'} dropped. Send "
            f"{'it' if len(damaged) == 1 else 'them'} again, then complete.",
            missing_parts=damaged,
        )
    if not hmac.compare_digest(computed, digest):
        raise DigestMismatchError(
            f"The {attachment.parts} stored parts make a stream whose digest is "
            f"{crypto.b64encode(computed)}, not {crypto.b64encode(digest)}, the one sent: "
            "the parts are not the stream the digest names, and the upload stays "
            "incomplete. Stored parts cannot be replaced: upload the file again as a new "
            f"attachment (this one is deleted {settings.CONFIDE_ATTACHMENT_ABANDON_HOURS} "
            "hours after it began)."
        )
    with transaction.atomic():
        locked = _own_upload(user, attachment_id, lock=True)
        if locked.completed_at is not None:
            return _completed_again(locked, digest)
        _require_active(locked.conversation)
        if AttachmentPart.objects.filter(attachment=locked).count() != locked.parts:
            raise AttachmentIncompleteError(
                "A part was dropped meanwhile: list the stored parts, send what is missing, "
                "then complete.",
                missing_parts=_missing(locked),
            )
        now = timezone.now()
        Attachment.objects.filter(pk=locked.pk).update(completed_at=now, digest=digest)
        locked.completed_at = now
        locked.digest = digest
    log.info("attachment %s completed", locked.pk)
    return Upload(locked, list(range(locked.parts)))


def _completed_again(attachment: Attachment, digest: bytes) -> Upload:
    if not hmac.compare_digest(bytes(attachment.digest or b""), digest):
        raise DigestMismatchError(
            "This attachment is already complete, with another digest than the one sent."
        )
    return Upload(attachment, list(range(attachment.parts)))


def _read_back(attachment: Attachment, recorded: dict[int, bytes]) -> tuple[bytes, list[int]]:
    """The digest of the stream the stored parts make, and the parts whose stored bytes are
    missing or differ from those received (each part's own digest is computed in the same
    pass)."""
    stream = attachment_digest_hasher()
    damaged = []
    for number in range(attachment.parts):
        part = hashlib.blake2b(digest_size=32)
        length = 0
        try:
            for chunk in parts.read(attachment.pk, number):
                stream.update(chunk)
                part.update(chunk)
                length += len(chunk)
        except FileNotFoundError:
            damaged.append(number)
            continue
        if length != attachment.part_length(number) or not hmac.compare_digest(
            part.digest(), recorded[number]
        ):
            damaged.append(number)
    return stream.digest(), damaged


def _drop_damaged(attachment: Attachment, damaged: list[int], recorded: dict[int, bytes]) -> None:
    """Forgets the parts the storage lost or changed, so that the uploader sends them again."""
    with transaction.atomic():
        Attachment.objects.select_for_update().filter(pk=attachment.pk).first()
        for number in damaged:
            dropped, _ = AttachmentPart.objects.filter(
                attachment=attachment, number=number, digest=recorded[number]
            ).delete()
            if dropped:
                parts.discard(attachment.pk, number)
    log.warning(
        "attachment %s: the storage did not keep parts %s as received; they were dropped",
        attachment.pk,
        damaged,
    )


def readable(user: User, attachment_id: uuid.UUID) -> Attachment:
    """The complete attachment, for any active member of its conversation (discharged too).
    Its uploader, before it is complete, is told ``attachment_incomplete``; anyone else
    ``not_found``."""
    attachment = _member_attachment(user, attachment_id, lock=False)
    _require_readable(attachment.conversation)
    if attachment.completed_at is None:
        missing = _missing(attachment)
        raise AttachmentIncompleteError(
            "This attachment is not complete: "
            + (f"{_numbers(missing)} still to send, then " if missing else "")
            + "complete it before it can be read.",
            missing_parts=missing,
        )
    return attachment


# --- deleting -------------------------------------------------------------------------------


def delete_attachments(ids: Sequence[uuid.UUID], only: Q | None = None) -> int:
    """Deletes these attachments (those of them that still match ``only``, checked under
    their row locks) with every part they may have stored; returns how many. Parts already
    missing are no error, so a deletion interrupted halfway simply runs again."""
    with transaction.atomic():
        query = Attachment.objects.select_for_update().filter(pk__in=list(ids))
        if only is not None:
            query = query.filter(only)
        doomed = list(query.order_by("pk").values_list("pk", "size", "part_size"))
        for attachment_id, size, part_size in doomed:
            parts.delete(attachment_id, -(-size // part_size))
        chosen = [attachment_id for attachment_id, _, _ in doomed]
        AttachmentPart.objects.filter(attachment_id__in=chosen).delete()
        Attachment.objects.filter(pk__in=chosen).delete()
    return len(doomed)


def collect_abandoned(now: dt.datetime | None = None) -> int:
    """Deletes every upload still incomplete ``CONFIDE_ATTACHMENT_ABANDON_HOURS`` after it
    began, with its stored parts (a duty of ``portal.periodic``); returns how many."""
    abandoned = Q(
        completed_at__isnull=True, created_at__lt=(now or timezone.now()) - _abandon_after()
    )
    collected = 0
    while True:
        ids = list(
            Attachment.objects.filter(abandoned).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        deleted = delete_attachments(ids, abandoned)
        if not deleted:
            break
        collected += deleted
    if collected:
        log.info("%d abandoned attachment uploads deleted", collected)
    return collected


# --- words ----------------------------------------------------------------------------------


def _amount(size: int) -> str:
    """A number of bytes as people read it: ``25 MiB``, or ``1,234,567 bytes (1.2 MiB)``."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    if size >= 1024**2:
        return f"{size:,} bytes ({size / 1024**2:.1f} MiB)"
    return f"{size:,} bytes"


def _numbers(numbers: list[int]) -> str:
    """``part 3``, ``parts 0, 2 and 5``, ``parts 0, 1, ... 9 and 15 more``."""
    if len(numbers) == 1:
        return f"part {numbers[0]}"
    shown = [str(n) for n in numbers[:10]]
    rest = len(numbers) - len(shown)
    if rest:
        return f"parts {', '.join(shown)} and {rest} more"
    return f"parts {', '.join(shown[:-1])} and {shown[-1]}"
