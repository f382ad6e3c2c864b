"""The practice's side of the HTTP API, besides messaging: the messaging agreement a client
accepts before the server takes their messages, and a therapist's invitations.

Each function is one request (docs/protocol.md, "HTTP API") read with the models of
``protocol.http``; ``ConfideClient`` exposes them as methods.
"""

from __future__ import annotations

from confide_client.errors import InvalidRequestError
from confide_client.http import HttpApi
from confide_client.records import (
    AcceptedAgreement,
    Agreement,
    AgreementSection,
    Invitation,
    InvitationSummary,
)
from confide_client.wire import build
from protocol.http import (
    AgreementAnswer,
    AgreementRequest,
    CurrentAgreementAnswer,
    InvitationAnswer,
    InvitationItem,
    InvitationRequest,
    InvitationsAnswer,
)

__all__ = [
    "accept_agreement",
    "create_invitation",
    "current_agreement",
    "list_invitations",
    "revoke_invitation",
]


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


async def create_invitation(http: HttpApi, client_name: str) -> Invitation:
    """``POST /api/invitations``: a new invitation; its token is shown once."""
    request = build(lambda: InvitationRequest(client_name=client_name), "client name")
    answer = await http.post("/api/invitations", request, InvitationAnswer)
    return Invitation(
        id=answer.id,
        token=answer.token,
        path=answer.path,
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


async def revoke_invitation(http: HttpApi, invitation_id: int) -> InvitationSummary:
    """``POST /api/invitations/<id>/revoke``: withdraws a pending invitation."""
    if isinstance(invitation_id, bool) or not isinstance(invitation_id, int) or invitation_id < 1:
        # Only a positive integer may go into the path.
        raise InvalidRequestError("An invitation id is a positive integer")
    answer = await http.post(f"/api/invitations/{invitation_id}/revoke", None, InvitationItem)
    return _summary(answer)
