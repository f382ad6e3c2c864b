"""Invitations: a therapist's one-time, expiring link, the therapist's list of them (and
revoking one, or giving a pending one a new link), and a client's sign-up through it.

The token travels only in the link's fragment and in request bodies, never in a
URL path, so it does not land in access logs; the database keeps its SHA-256.

An invitation is pending until it is used, expires or is revoked; only a pending one opens
(``invitation_invalid`` otherwise, the same answer whatever the reason). A client who signs
up through one has not yet accepted the practice's messaging agreement: they do so before
their first message (``accounts.agreement``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.counters import hit
from accounts.models import Role, User, normalise_email
from accounts.signup import AccountKeys, check_keys
from accounts.tokens import hash_token, new_token
from audit.log import record
from crypto import PublicIdentity
from messaging.models import Conversation, Invitation, KeyEnvelope, Membership
from messaging.services import events
from messaging.services.epochs import CheckedEnvelope, check_envelopes
from protocol.audit import AuditKind
from protocol.errors import (
    EmailTakenError,
    InvitationInvalidError,
    NotFoundError,
)
from protocol.http import InvitationState
from protocol.to_client import ConversationAddedEvent


@dataclass(frozen=True)
class NewInvitation:
    token: str
    invitation: Invitation


def create_invitation(therapist: User, client_name: str) -> NewInvitation:
    token = new_token()
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            token_hash=hash_token(token),
            therapist=therapist,
            client_name=client_name,
            created_at=now,
            expires_at=now + timedelta(hours=settings.CONFIDE_INVITATION_HOURS),
        )
        record(AuditKind.INVITATION_CREATED, actor=therapist, subject=f"invitation:{invitation.pk}")
    return NewInvitation(token, invitation)


def open_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The pending invitation for ``token``; unknown, used and expired ones are one error."""
    query = Invitation.objects.select_related("therapist", "therapist__practice")
    if lock:
        query = query.select_for_update(of=("self",))
    invitation = query.filter(token_hash=hash_token(token)).first()
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= timezone.now()
        or not invitation.therapist.is_active
    ):
        raise InvitationInvalidError(
            "This invitation link is not valid: it may have expired or been used already. "
            "Ask your therapist for a new one."
        )
    return invitation


@dataclass(frozen=True)
class ListedInvitation:
    """One of a therapist's invitations and its state, as they see it."""

    invitation: Invitation
    state: InvitationState


def _state(invitation: Invitation, joined: bool) -> InvitationState:
    """``accepted`` only when a client joined through it: one used up by ``email_taken``
    answers opened nothing, and shows as ``expired`` (it can no longer be used)."""
    if invitation.revoked_at is not None:
        return "revoked"
    if joined:
        return "accepted"
    if invitation.used_at is not None or invitation.expires_at <= timezone.now():
        return "expired"
    return "pending"


def _joined() -> Exists:
    return Exists(Conversation.objects.filter(id=OuterRef("conversation_id")))


# The lists are of the newest invitations: a pending one is at most
# CONFIDE_INVITATION_HOURS old, so it is among them unless a therapist (or, in the admin's
# list, a practice) sends more than this many in that time; older ones are accepted,
# expired or revoked, and their clients are in the inbox.
LISTED_INVITATIONS = 200


def list_invitations(therapist: User) -> list[ListedInvitation]:
    """The therapist's own invitations, the ``LISTED_INVITATIONS`` newest first (one
    query)."""
    rows = (
        Invitation.objects.filter(therapist=therapist)
        .annotate(joined=_joined())
        .order_by("-created_at", "-pk")[:LISTED_INVITATIONS]
    )
    return [ListedInvitation(row, _state(row, row.joined)) for row in rows]


def practice_invitations(practice_id: int) -> list[ListedInvitation]:
    """Every therapist's invitations in the practice, the ``LISTED_INVITATIONS`` newest
    first (one query)."""
    rows = (
        Invitation.objects.filter(therapist__practice_id=practice_id)
        .select_related("therapist")
        .annotate(joined=_joined())
        .order_by("-created_at", "-pk")[:LISTED_INVITATIONS]
    )
    return [ListedInvitation(row, _state(row, row.joined)) for row in rows]


# Ids are 64-bit signed integers in every database the server runs on.
_LARGEST_ID = 2**63 - 1


def revoke_invitation(
    therapist: User, invitation_id: int, *, by: User | None = None
) -> ListedInvitation:
    """Withdraws one of the therapist's pending invitations: its link then opens nothing
    (``invitation_invalid``, as a used one). Someone else's or an unknown id is
    ``not_found``, the same answer. One that is no longer pending (accepted, expired,
    revoked already) is left as it is and answered as it is: its state says why."""
    if not 1 <= invitation_id <= _LARGEST_ID:
        raise NotFoundError("No such invitation.")  # beyond what the database can compare
    with transaction.atomic():
        # Locked as accepting locks it, so that a revoke and an accept are one after the
        # other: an accepted invitation is never marked revoked, nor a revoked one used.
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation_id, therapist=therapist)
            .first()
        )
        if invitation is None:
            raise NotFoundError("No such invitation.")
        joined = Conversation.objects.filter(id=invitation.conversation_id).exists()
        if _state(invitation, joined) == "pending":
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            record(
                AuditKind.INVITATION_REVOKED,
                actor=by or therapist,
                subject=f"invitation:{invitation.pk}",
            )
    return ListedInvitation(invitation, _state(invitation, joined))


_NOT_PENDING: dict[InvitationState, str] = {
    "accepted": "was accepted",
    "expired": "has expired or been used up",
    "revoked": "was revoked",
}


def renew_invitation(therapist: User, invitation_id: int, *, extend: bool) -> NewInvitation:
    """Gives one of the therapist's pending invitations a new token, for a link to give
    again (the server keeps only the hash, so the first link cannot be shown twice). The
    old token opens nothing from the moment this commits (``invitation_invalid``); the
    conversation id stays. ``extend`` also moves the expiry to
    ``CONFIDE_INVITATION_HOURS`` from now. Someone else's or an unknown id is
    ``not_found``; one that is no longer pending is left as it is and answered
    ``invitation_invalid``, with its state in the message."""
    if not 1 <= invitation_id <= _LARGEST_ID:
        raise NotFoundError("No such invitation.")
    token = new_token()
    with transaction.atomic():
        # Locked as accepting and revoking lock it: an accept that comes first leaves it
        # accepted (and this refused); one that comes after finds the old token gone.
        invitation = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation_id, therapist=therapist)
            .first()
        )
        if invitation is None:
            raise NotFoundError("No such invitation.")
        joined = Conversation.objects.filter(id=invitation.conversation_id).exists()
        state = _state(invitation, joined)
        if state != "pending":
            raise InvitationInvalidError(
                f"This invitation {_NOT_PENDING[state]}, so it cannot be given a new link; "
                "nothing was changed. Create a new invitation instead."
            )
        invitation.token_hash = hash_token(token)
        fields = ["token_hash"]
        if extend:
            invitation.expires_at = timezone.now() + timedelta(
                hours=settings.CONFIDE_INVITATION_HOURS
            )
            fields.append("expires_at")
        invitation.save(update_fields=fields)
        record(
            AuditKind.INVITATION_RENEWED,
            actor=therapist,
            subject=f"invitation:{invitation.pk}",
            details={"extended": extend},
        )
    return NewInvitation(token, invitation)


@dataclass(frozen=True)
class SignUp:
    """A client's sign-up through an invitation: their account's keys, and the
    conversation's first epoch key wrapped to them and to their therapist."""

    email: str
    display_name: str
    keys: AccountKeys
    client_envelope: bytes
    therapist_envelope: bytes


# The new client has no id until its account exists; its envelope is checked under this
# stand-in (database ids start at 1).
_NEW_CLIENT = 0


def accept_invitation(token: str, sign_up: SignUp) -> tuple[User, Conversation]:
    """Creates the client's account and the conversation with its first epoch, once.

    Everything that says nothing about other accounts is checked first: the sign-up
    material, the invitation, the envelopes. Only a request that passes all of them
    learns that the email is taken, and each such answer uses up one of the
    invitation's ``CONFIDE_INVITATION_EMAIL_TAKEN_ANSWERS`` (docs/threat-model.md).
    """
    identity = check_keys(sign_up.keys)
    email = normalise_email(sign_up.email)
    try:
        with transaction.atomic():
            invitation = open_invitation(token, lock=True)
            therapist = invitation.therapist
            conversation_id: uuid.UUID = invitation.conversation_id
            checked = check_envelopes(
                conversation_id,
                0,
                identity,
                [
                    (_NEW_CLIENT, sign_up.client_envelope),
                    (therapist.pk, sign_up.therapist_envelope),
                ],
                {
                    _NEW_CLIENT: identity,
                    therapist.pk: PublicIdentity.from_bytes(bytes(therapist.public_identity)),
                },
            )
            # A taken email leaves the block normally, so that an invitation used up by
            # the answer stays so.
            taken = User.objects.filter(email=email).exists()
            created = (
                _email_taken(invitation) if taken else _create(invitation, email, sign_up, checked)
            )
    except IntegrityError:
        # Lost a race: either the email was taken or the invitation was used meanwhile.
        answer_after_a_lost_race(token, email)
    if isinstance(created, EmailTakenError):
        raise created
    return created


def _create(
    invitation: Invitation, email: str, sign_up: SignUp, checked: list[CheckedEnvelope]
) -> tuple[User, Conversation]:
    therapist = invitation.therapist
    client = User.objects.create_user(
        email,
        auth_secret=sign_up.keys.auth_secret,
        display_name=sign_up.display_name,
        role=Role.CLIENT,
        practice=therapist.practice,
        kdf_salt=sign_up.keys.salt,
        kdf_opslimit=sign_up.keys.params.opslimit,
        kdf_memlimit=sign_up.keys.params.memlimit,
        public_identity=sign_up.keys.public_identity,
        key_bundle=sign_up.keys.key_bundle,
        recovery_bundle=sign_up.keys.recovery_bundle,
    )
    conversation = Conversation.objects.create(
        id=invitation.conversation_id, practice=therapist.practice
    )
    Membership.objects.bulk_create(
        [
            Membership(conversation=conversation, user=client),
            Membership(conversation=conversation, user=therapist),
        ]
    )
    KeyEnvelope.objects.bulk_create(
        KeyEnvelope(
            conversation=conversation,
            epoch=0,
            recipient_id=client.pk if c.recipient_id == _NEW_CLIENT else c.recipient_id,
            wrapper=client,
            envelope=c.envelope,
        )
        for c in checked
    )
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    record(
        AuditKind.ACCOUNT_CREATED,
        actor=client,
        subject=f"user:{client.pk}",
        details={"role": client.role},
    )
    record(
        AuditKind.INVITATION_ACCEPTED,
        actor=client,
        subject=f"invitation:{invitation.pk}",
        details={"conversation": str(conversation.id), "therapist": therapist.pk},
    )
    # The therapist's open inbox learns of it without polling, once it is committed. The
    # event carries the conversation's id only; a lost one is made up by the next listing.
    events.publish_on_commit([therapist.pk], ConversationAddedEvent(conversation=conversation.id))
    return client, conversation


def _email_taken(invitation: Invitation) -> EmailTakenError:
    """The answer for a taken email; the last one an invitation gives also uses it up."""
    allowed: int = settings.CONFIDE_INVITATION_EMAIL_TAKEN_ANSWERS
    remaining_s = int((invitation.expires_at - timezone.now()).total_seconds())
    answers = hit(f"confide:invitation:email-taken:{invitation.token_hash}", max(remaining_s, 1))
    used_up = answers >= allowed
    message = "An account with this email already exists; sign in instead."
    if used_up:
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        message += " This invitation link can no longer be used; ask your therapist for a new one."
    return EmailTakenError(message, invitation_used_up=used_up)


def answer_after_a_lost_race(token: str, email: str) -> NoReturn:
    """The answer when the insert failed because another request took the email or the
    invitation at the same moment: the invitation is checked again before the email."""
    with transaction.atomic():
        invitation = open_invitation(token, lock=True)
        taken = User.objects.filter(email=email).exists()
        refusal = _email_taken(invitation) if taken else None
    if refusal is not None:
        raise refusal
    raise InvitationInvalidError("This invitation link has been used already.")
