"""The accounting of disclosures: a therapist records a disclosure made outside the
conversation, and both members list the conversation's records (docs/protocol.md,
"Disclosures").

The description (to whom, what, why) is sealed by the therapist's client to the
conversation and signed (crypto/SPEC.md, "Disclosure records"); the server checks the
seal's shape, signature and binding, as it does a message's, and keeps the date and the
legal basis in the clear for the audit log. It never holds the description's text.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest

import crypto
from accounts.models import Role, User
from audit.log import record
from crypto import CryptoError, PublicIdentity
from messaging.models import Conversation, Disclosure, KeyEnvelope, Membership
from messaging.services import events
from messaging.services.common import member_conversation
from protocol.audit import AuditKind
from protocol.errors import (
    BadCiphertextError,
    BadRequestError,
    ConversationClosedError,
    ForbiddenError,
    StaleEpochError,
)
from protocol.to_client import DisclosureRecordedEvent

_CLOSED = {
    Conversation.Status.DISCHARGED: "discharged",
    Conversation.Status.ERASING: "being erased",
    Conversation.Status.ERASED: "erased",
}


@dataclass(frozen=True)
class NewDisclosure:
    """What the therapist's client sends: the record's id, its plain metadata, the epoch
    it is sealed in and the sealed bytes."""

    id: uuid.UUID
    disclosed_on: datetime.date
    legal_basis: str
    epoch: int
    sealed: bytes


def check_sealed_disclosure(
    sealed: bytes, recorder: PublicIdentity, conversation_id: uuid.UUID, new: NewDisclosure
) -> None:
    """The record is well formed, signed by the recording therapist, and bound to this
    conversation, epoch and id. The server holds no key, so this is all it can check."""
    try:
        info = crypto.verify_disclosure(sealed, recorder)
    except CryptoError as exc:
        raise BadCiphertextError(f"The sealed disclosure was rejected: {exc}") from None
    if info.conversation_id != conversation_id.bytes:
        raise BadCiphertextError("The sealed disclosure is bound to another conversation.")
    if info.epoch != new.epoch:
        raise BadCiphertextError(
            "The sealed disclosure is bound to another epoch than the request's."
        )
    if info.disclosure_id != new.id.bytes:
        raise BadCiphertextError("The sealed disclosure is bound to another id than the request's.")


def record_disclosure(
    user: User, conversation_id: uuid.UUID, new: NewDisclosure, request: HttpRequest | None = None
) -> Disclosure:
    """Stores a disclosure the therapist of the conversation recorded, records it in the
    audit log, and tells both members after the commit. A resend of the same record (same
    id, same bytes) answers the stored one and records nothing again."""
    if user.role != Role.THERAPIST:
        raise ForbiddenError("Only the conversation's therapist records a disclosure.")
    if new.legal_basis not in Disclosure.LegalBasis.values:
        raise BadRequestError(f"Unknown legal basis: {new.legal_basis}.")
    check_sealed_disclosure(
        new.sealed, PublicIdentity.from_bytes(bytes(user.public_identity)), conversation_id, new
    )
    with transaction.atomic():
        conversation = member_conversation(user.pk, conversation_id, lock=True)
        if conversation.status != Conversation.Status.ACTIVE:
            state = _CLOSED.get(Conversation.Status(conversation.status), conversation.status)
            raise ConversationClosedError(
                "Disclosures are recorded only while the conversation is active; this one is "
                f"{state}. Keep the record of this disclosure in the practice's own files."
            )
        existing = Disclosure.objects.filter(pk=new.id).first()
        if existing is not None:
            if existing.conversation_id == conversation.id and bytes(existing.sealed) == new.sealed:
                return existing
            raise BadRequestError("This disclosure id is already used: make a new one.")
        if not KeyEnvelope.objects.filter(conversation=conversation, epoch=new.epoch).exists():
            raise StaleEpochError(
                f"The conversation has no epoch {new.epoch}; seal the record in epoch "
                f"{conversation.current_epoch}.",
                current_epoch=conversation.current_epoch,
            )
        disclosure = Disclosure.objects.create(
            id=new.id,
            conversation=conversation,
            recorded_by=user,
            disclosed_on=new.disclosed_on,
            legal_basis=new.legal_basis,
            epoch=new.epoch,
            sealed=new.sealed,
        )
        members = list(
            Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True)
        )
        events.publish_on_commit(
            members,
            DisclosureRecordedEvent(conversation=conversation.id, disclosure=disclosure.id),
        )
        # Last: the audit log's head stays locked until the commit.
        record(
            AuditKind.DISCLOSURE_RECORDED,
            request=request,
            actor=user,
            subject=f"conversation:{conversation.id}",
            details={
                "disclosed_on": new.disclosed_on.isoformat(),
                "legal_basis": new.legal_basis,
                "disclosure": str(disclosure.id),
            },
        )
    return disclosure


def list_disclosures(user: User, conversation_id: uuid.UUID) -> list[Disclosure]:
    """The conversation's accounting of disclosures, oldest first, for either member."""
    conversation = member_conversation(user.pk, conversation_id, lock=False)
    return list(Disclosure.objects.filter(conversation=conversation).order_by("recorded_at", "id"))
