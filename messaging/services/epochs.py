"""Epochs: a member starts the next one with its key wrapped to every member."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

import crypto
from accounts.models import User
from audit.log import record
from crypto import CryptoError, PublicIdentity
from messaging.models import Conversation, KeyEnvelope
from messaging.services import events
from messaging.services.common import in_db_thread, member_conversation
from protocol.audit import AuditKind
from protocol.errors import BadEnvelopesError, ConversationClosedError, StaleEpochError
from protocol.to_client import EpochEvent


@dataclass(frozen=True)
class CheckedEnvelope:
    recipient_id: int
    envelope: bytes


def envelope_version_for(recipient: PublicIdentity) -> int:
    """The envelope version a wrapper makes now for ``recipient`` (crypto/SPEC.md,
    "Version 3: wrapped with X-Wing"): 3 (X-Wing) for a version-2 identity, 2 for a
    version-1 one. Version 1, which signs no time, is never taken for a new epoch: a
    recipient cannot tell it from history."""
    if recipient.version == crypto.IDENTITY_VERSION_2:
        return crypto.ENVELOPE_VERSION_3
    return crypto.ENVELOPE_VERSION_2


def check_envelopes(
    conversation_id: uuid.UUID,
    epoch: int,
    wrapper: PublicIdentity,
    envelopes: Sequence[tuple[int, bytes]],
    members: dict[int, PublicIdentity],
) -> list[CheckedEnvelope]:
    """One envelope per member, each signed by ``wrapper`` and bound to its member and epoch,
    each of the version its member's published identity takes (3, X-Wing, for a version-2
    identity), and all signing the same creation time and key commitment: every member is
    given the key the commitment names, or the epoch does not begin (crypto/SPEC.md,
    "Version 2: the epoch's time and key, signed"). An envelope wrapped to an identity the
    server no longer publishes (a member whose identity just moved to version 2) is
    refused: the wrapper reads the members again and wraps anew."""
    recipients = [recipient for recipient, _ in envelopes]
    if sorted(recipients) != sorted(members):
        raise BadEnvelopesError("There must be exactly one envelope for each member.")
    checked = []
    signed: set[tuple[int | None, bytes | None]] = set()
    for recipient_id, envelope in envelopes:
        try:
            info = crypto.verify_envelope(envelope, wrapper)
        except CryptoError as exc:
            raise BadEnvelopesError(f"Envelope for member {recipient_id}: {exc}") from None
        if info.conversation_id != conversation_id.bytes or info.epoch != epoch:
            raise BadEnvelopesError(
                f"Envelope for member {recipient_id} is bound to another conversation or epoch."
            )
        recipient = members[recipient_id]
        if info.recipient_enc_pk != recipient.enc_key:
            raise BadEnvelopesError(
                f"Envelope for member {recipient_id} is not wrapped to that member's key."
            )
        expected = envelope_version_for(recipient)
        if info.version != expected:
            raise BadEnvelopesError(
                f"Envelope for member {recipient_id} is of version {info.version}; that "
                f"member's identity takes version {expected}: read the members' identities "
                "again."
            )
        signed.add((info.created_at, info.commitment))
        checked.append(CheckedEnvelope(recipient_id, envelope))
    if len(signed) > 1:
        raise BadEnvelopesError(
            "The envelopes of one epoch must all sign one creation time and one key commitment."
        )
    return checked


def _start_epoch(
    user_id: int, conversation_id: uuid.UUID, epoch: int, envelopes: Sequence[tuple[int, bytes]]
) -> tuple[CheckedEnvelope, ...]:
    with transaction.atomic():
        conversation = member_conversation(user_id, conversation_id, lock=True)
        if conversation.status != Conversation.Status.ACTIVE:
            raise ConversationClosedError("The conversation is read-only.")
        if epoch != conversation.current_epoch + 1:
            raise StaleEpochError(
                f"The next epoch is {conversation.current_epoch + 1}.",
                current_epoch=conversation.current_epoch,
            )
        users = {
            user.pk: user for user in User.objects.filter(memberships__conversation=conversation)
        }
        members = {
            pk: PublicIdentity.from_bytes(bytes(user.public_identity)) for pk, user in users.items()
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
            current_epoch=epoch, epoch_started_at=timezone.now(), epoch_start_seq=F("last_seq")
        )
        record(
            AuditKind.EPOCH_STARTED,
            actor=users[user_id],
            subject=f"conversation:{conversation_id}",
            details={"epoch": epoch, "envelopes": len(checked)},
        )
        return tuple(checked)


_start_epoch_async = in_db_thread(_start_epoch)


async def start_epoch(
    user_id: int, conversation_id: uuid.UUID, epoch: int, envelopes: Sequence[tuple[int, bytes]]
) -> None:
    """Stores a new epoch's envelopes and sends each member their own."""
    checked = await _start_epoch_async(user_id, conversation_id, epoch, envelopes)
    await events.publish_many(
        [
            events.Event(
                [item.recipient_id],
                EpochEvent(
                    conversation=conversation_id,
                    epoch=epoch,
                    wrapper=user_id,
                    envelope=crypto.b64encode(item.envelope),
                ),
            )
            for item in checked
        ]
    )
