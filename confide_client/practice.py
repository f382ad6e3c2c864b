"""The practice's side of the HTTP API, besides messaging: the messaging agreement a client
accepts before the server takes their messages, a therapist's invitations and their own
labels and archive in the inbox.

Each function is one request (docs/protocol.md, "HTTP API") read with the models of
``protocol.http``; ``ConfideClient`` exposes them as methods.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from confide_client.errors import InvalidRequestError, ProtocolError
from confide_client.http import HttpApi
from confide_client.records import (
    AcceptedAgreement,
    Agreement,
    AgreementSection,
    InboxEntry,
    Invitation,
    InvitationSummary,
)
from confide_client.wire import build
from crypto import CryptoError, PublicIdentity, invitation_fragment
from protocol.availability import (
    AvailabilityAnswer,
    AvailabilitySettings,
    TherapistAvailability,
    TherapistAvailabilityAnswer,
)
from protocol.http import (
    AgreementAnswer,
    AgreementRequest,
    ArchiveRequest,
    ConversationAnswer,
    CurrentAgreementAnswer,
    InboxEntryAnswer,
    InvitationAnswer,
    InvitationItem,
    InvitationRequest,
    InvitationsAnswer,
    LabelRequest,
    RenewRequest,
)

__all__ = [
    "accept_agreement",
    "discharge",
    "availability",
    "set_availability",
    "create_invitation",
    "current_agreement",
    "list_invitations",
    "renew_invitation",
    "revoke_invitation",
    "set_inbox_entry",
]


async def availability(http: HttpApi, conversation_id: uuid.UUID) -> TherapistAvailability | None:
    """``GET /api/conversations/<id>/availability``: the conversation's therapist's office
    hours, reply time and away status, as their client is shown them (``None``: no
    therapist in it)."""
    path = f"/api/conversations/{conversation_id}/availability"
    return (await http.get(path, TherapistAvailabilityAnswer)).availability


async def set_availability(http: HttpApi, settings: AvailabilitySettings) -> AvailabilityAnswer:
    """``POST /api/me/availability`` (therapists): replaces their office hours, reply time,
    away status and automatic reply, all or none."""
    return await http.post("/api/me/availability", settings, AvailabilityAnswer)


async def current_agreement(http: HttpApi) -> Agreement:
    """``GET /api/agreement``: the current text, and whether this user accepted it."""
    answer = await http.get("/api/agreement", CurrentAgreementAnswer)
    text = answer.agreement
    accepted = answer.accepted
    return Agreement(
        version=text.version,
        published_at=text.published_at,
        sections=tuple(
            AgreementSection(section.heading, tuple(section.paragraphs))
            for section in text.sections
        ),
        # An acceptance of another version is not one of this version.
        accepted_at=(
            accepted.accepted_at
            if accepted is not None and accepted.version == text.version
            else None
        ),
    )


async def accept_agreement(http: HttpApi, version: str) -> AcceptedAgreement:
    """``POST /api/agreement``: records that the client accepted ``version``."""
    request = build(lambda: AgreementRequest(version=version), "agreement version")
    answer = await http.post("/api/agreement", request, AgreementAnswer)
    return AcceptedAgreement(answer.agreement.version, answer.agreement.accepted_at)


async def create_invitation(
    http: HttpApi, client_name: str, therapist: PublicIdentity
) -> Invitation:
    """``POST /api/invitations``: a new invitation; its token is shown once. Its link
    carries ``therapist``'s fingerprint: the identity the therapist's own client holds."""
    request = build(lambda: InvitationRequest(client_name=client_name), "client name")
    answer = await http.post("/api/invitations", request, InvitationAnswer)
    return _invitation(answer, therapist)


def _invitation(answer: InvitationAnswer, therapist: PublicIdentity) -> Invitation:
    try:
        fragment = invitation_fragment(answer.token, therapist)
    except CryptoError as exc:
        raise ProtocolError(f"The server's invitation token is unusable: {exc}") from None
    return Invitation(
        id=answer.id,
        token=answer.token,
        fragment=fragment,
        expires_at=answer.expires_at,
        conversation=answer.conversation,
    )


def _summary(item: InvitationItem) -> InvitationSummary:
    return InvitationSummary(
        id=item.id,
        client_name=item.client_name,
        conversation=item.conversation,
        created_at=item.created_at,
        expires_at=item.expires_at,
        state=item.state,
    )


async def list_invitations(http: HttpApi) -> list[InvitationSummary]:
    """``GET /api/invitations``: the therapist's invitations, newest first."""
    answer = await http.get("/api/invitations", InvitationsAnswer)
    return [_summary(item) for item in answer.invitations]


def _invitation_path(invitation_id: int, action: str) -> str:
    if isinstance(invitation_id, bool) or not isinstance(invitation_id, int) or invitation_id < 1:
        # Only a positive integer may go into the path.
        raise InvalidRequestError("An invitation id is a positive integer")
    return f"/api/invitations/{invitation_id}/{action}"


async def revoke_invitation(http: HttpApi, invitation_id: int) -> InvitationSummary:
    """``POST /api/invitations/<id>/revoke``: withdraws a pending invitation."""
    answer = await http.post(_invitation_path(invitation_id, "revoke"), None, InvitationItem)
    return _summary(answer)


async def renew_invitation(
    http: HttpApi, invitation_id: int, therapist: PublicIdentity, *, extend: bool
) -> Invitation:
    """``POST /api/invitations/<id>/renew``: a new link for a pending invitation (the one
    given before stops working); ``extend`` also moves its expiry."""
    request = build(lambda: RenewRequest(extend=extend), "renewal")
    path = _invitation_path(invitation_id, "renew")
    return _invitation(await http.post(path, request, InvitationAnswer), therapist)


async def discharge(http: HttpApi, conversation: uuid.UUID) -> str:
    """``POST /api/conversations/<id>/discharge``: the therapist discharges the
    conversation (read-only for both members from then on); returns its new status.
    One already discharged or erased is refused with ``ConversationClosedError``."""
    if not isinstance(conversation, uuid.UUID):
        raise InvalidRequestError("A conversation id is a UUID")
    answer = await http.post(
        f"/api/conversations/{conversation}/discharge", None, ConversationAnswer
    )
    if answer.conversation.id != conversation:
        raise ProtocolError("The server answered for another conversation than asked for")
    return answer.conversation.status


async def set_inbox_entry(
    http: HttpApi,
    conversation: uuid.UUID,
    *,
    label: str | None = None,
    archived: bool | None = None,
) -> InboxEntry:
    """``POST /api/conversations/<id>/label`` or ``.../archive``: the therapist's own name
    for the client, or whether the conversation is archived, in their inbox."""
    if not isinstance(conversation, uuid.UUID):
        raise InvalidRequestError("A conversation id is a UUID")
    if label is not None:
        request: BaseModel = build(lambda: LabelRequest(label=label), "label")
        path = f"/api/conversations/{conversation}/label"
    else:
        request = build(lambda: ArchiveRequest(archived=bool(archived)), "archive")
        path = f"/api/conversations/{conversation}/archive"
    answer = await http.post(path, request, InboxEntryAnswer)
    if answer.conversation != conversation:
        raise ProtocolError("The server answered for another conversation than asked for")
    return InboxEntry(answer.conversation, answer.label, answer.archived_at)
