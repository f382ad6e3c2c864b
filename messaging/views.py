"""HTTP endpoints of the messaging app (docs/protocol.md, "HTTP API")."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from asgiref.sync import async_to_sync
from django.contrib.auth import login
from django.db.models import Count, F, Prefetch, Q
from django.http import HttpRequest
from pydantic import BaseModel, ConfigDict, Field

import crypto
from crypto import CryptoError, KdfParams
from messaging.errors import BadRequestError, NotFoundError
from messaging.invitations import SignUp, accept_invitation, create_invitation, open_invitation
from messaging.models import KeyEnvelope, Membership
from messaging.services import broadcast
from portal.accounts.models import Role, User
from portal.accounts.views import AuthSecret, Email, user_json
from portal.api import api, parse_body, signed_in_user

Token = Annotated[str, Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
B64 = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=150, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class InvitationRequest(Strict):
    client_name: Name


class TokenRequest(Strict):
    token: Token


class KdfBody(Strict):
    salt: B64
    opslimit: int
    memlimit: int
    algorithm: Annotated[str, Field(pattern=r"^argon2id13$")] = "argon2id13"


class AcceptRequest(Strict):
    token: Token
    email: Email
    display_name: Name
    auth_secret: AuthSecret
    kdf: KdfBody
    public_identity: B64
    key_bundle: B64
    recovery_bundle: B64
    client_envelope: B64
    therapist_envelope: B64


def _b64(text: str, what: str) -> bytes:
    try:
        return crypto.b64decode(text)
    except CryptoError as exc:
        raise BadRequestError(f"Invalid request: {what}: {exc}") from None


@api(methods=("POST",), roles=(Role.THERAPIST,))
def invitations(request: HttpRequest) -> dict[str, Any]:
    """A therapist invites a client; the link's token is shown once."""
    body = parse_body(request, InvitationRequest)
    new = create_invitation(signed_in_user(request), body.client_name)
    return {
        "token": new.token,
        "path": f"/invite#{new.token}",
        "expires_at": new.invitation.expires_at.isoformat(),
        "conversation": str(new.invitation.conversation_id),
    }


@api(methods=("POST",), auth=False)
def invitation_lookup(request: HttpRequest) -> dict[str, Any]:
    """What a client needs before accepting: whom the invitation is from, and the conversation."""
    body = parse_body(request, TokenRequest)
    invitation = open_invitation(body.token)
    return {
        "conversation": str(invitation.conversation_id),
        "client_name": invitation.client_name,
        "therapist": user_json(invitation.therapist),
        "practice": invitation.therapist.practice.name,
        "expires_at": invitation.expires_at.isoformat(),
    }


@api(methods=("POST",), auth=False)
def invitation_accept(request: HttpRequest) -> dict[str, Any]:
    """The client signs up through the invitation and is signed in."""
    body = parse_body(request, AcceptRequest)
    try:
        params = KdfParams(body.kdf.opslimit, body.kdf.memlimit)
    except CryptoError as exc:
        raise BadRequestError(f"Invalid request: kdf: {exc}") from None
    sign_up = SignUp(
        email=body.email,
        display_name=body.display_name,
        auth_secret=body.auth_secret,
        salt=_b64(body.kdf.salt, "kdf.salt"),
        params=params,
        public_identity=_b64(body.public_identity, "public_identity"),
        key_bundle=_b64(body.key_bundle, "key_bundle"),
        recovery_bundle=_b64(body.recovery_bundle, "recovery_bundle"),
        client_envelope=_b64(body.client_envelope, "client_envelope"),
        therapist_envelope=_b64(body.therapist_envelope, "therapist_envelope"),
    )
    client, conversation = accept_invitation(body.token, sign_up)
    login(request, client, backend="django.contrib.auth.backends.ModelBackend")
    # After the commit: the therapist's open inbox learns of it without polling. Content
    # free (the conversation's id only); lost events are made up by the next listing.
    therapist_id: int = (
        Membership.objects.filter(conversation=conversation)
        .exclude(user=client)
        .values_list("user_id", flat=True)
        .get()
    )
    async_to_sync(broadcast)(
        [therapist_id], {"type": "conversation_added", "conversation": str(conversation.id)}
    )
    return {"user": user_json(client, with_keys=True), "conversation": str(conversation.id)}


def conversation_json(membership: Membership, user: User) -> dict[str, Any]:
    conversation = membership.conversation
    members = [m.user for m in conversation.memberships.all()]
    envelopes = conversation.envelopes.all()  # prefetched: only the user's own
    return {
        "id": str(conversation.id),
        "status": conversation.status,
        "current_epoch": conversation.current_epoch,
        # What the rotation policy needs (crypto/SPEC.md, "Epoch rotation").
        "epoch_started_at": conversation.epoch_started_at.isoformat(),
        "epoch_messages": getattr(membership, "epoch_messages", 0),
        "last_seq": conversation.last_seq,
        "last_message_at": (
            conversation.last_message_at.isoformat() if conversation.last_message_at else None
        ),
        "last_read_seq": membership.last_read_seq,
        "unread": getattr(membership, "unread", 0),
        "members": [user_json(member) for member in members],
        "read_seqs": {str(m.user_id): m.last_read_seq for m in conversation.memberships.all()},
        "envelopes": [
            {
                "epoch": e.epoch,
                "wrapper": e.wrapper_id,
                "envelope": crypto.b64encode(bytes(e.envelope)),
            }
            for e in sorted(envelopes, key=lambda e: e.epoch)
        ],
    }


def _memberships(user: User, conversation_id: uuid.UUID | None = None) -> list[Membership]:
    """The user's memberships with what conversation_json shows, in three queries."""
    query = Membership.objects.filter(user=user, user__is_active=True)
    if conversation_id is not None:
        query = query.filter(conversation_id=conversation_id)
    return list(
        query.select_related("conversation")
        .annotate(
            unread=Count(
                "conversation__messages",
                filter=Q(conversation__messages__seq__gt=F("last_read_seq"))
                & ~Q(conversation__messages__sender=user),
            ),
            epoch_messages=Count(
                "conversation__messages",
                filter=Q(conversation__messages__epoch=F("conversation__current_epoch")),
            ),
        )
        .prefetch_related(
            Prefetch(
                "conversation__memberships", queryset=Membership.objects.select_related("user")
            ),
            Prefetch(
                "conversation__envelopes", queryset=KeyEnvelope.objects.filter(recipient=user)
            ),
        )
        .order_by("-conversation__last_message_at", "-conversation__created_at")
    )


@api(methods=("GET",))
def conversations(request: HttpRequest) -> dict[str, Any]:
    """The user's conversations, newest activity first, with members, unread counts and keys."""
    user = signed_in_user(request)
    return {"conversations": [conversation_json(m, user) for m in _memberships(user)]}


@api(methods=("GET",))
def conversation_detail(request: HttpRequest, conversation_id: uuid.UUID) -> dict[str, Any]:
    user = signed_in_user(request)
    found = _memberships(user, conversation_id)
    if not found:
        raise NotFoundError("No such conversation.")
    return {"conversation": conversation_json(found[0], user)}
