"""The practice admin's view of client invitations (``/api/admin/invitations``): every
therapist's, so that an admin can withdraw a link sent to the wrong person while its
therapist is away. Never a token: only its hash is kept."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.api import api, signed_in_user
from accounts.models import Role
from messaging.models import Invitation
from messaging.services.invitations import ListedInvitation, practice_invitations, revoke_invitation
from protocol import practice as body
from protocol.errors import NotFoundError

# Ids are 64-bit signed integers in every database the server runs on.
_LARGEST_ID = 2**63 - 1


def admin_invitation_item(listed: ListedInvitation) -> body.AdminInvitationItem:
    invitation = listed.invitation
    return body.AdminInvitationItem(
        id=invitation.pk,
        client_name=invitation.client_name,
        therapist=invitation.therapist.display_name,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        state=listed.state,
    )


@api(methods=("GET",), roles=(Role.ADMIN,))
def invitations(request: HttpRequest) -> body.AdminInvitationsAnswer:
    """The practice's client invitations, newest first."""
    admin = signed_in_user(request)
    practice_id = admin.practice_id
    return body.AdminInvitationsAnswer(
        invitations=[admin_invitation_item(listed) for listed in practice_invitations(practice_id)]
    )


@api(methods=("POST",), roles=(Role.ADMIN,))
def invitation_revoke(request: HttpRequest, invitation_id: int) -> body.AdminInvitationItem:
    """Withdraws a pending invitation of any therapist of the admin's practice, as its
    therapist would (``revoke_invitation``); another practice's is ``not_found``."""
    admin = signed_in_user(request)
    practice_id = admin.practice_id
    if not 1 <= invitation_id <= _LARGEST_ID:
        raise NotFoundError("No such invitation.")
    invitation = (
        Invitation.objects.select_related("therapist")
        .filter(pk=invitation_id, therapist__practice_id=practice_id)
        .first()
    )
    if invitation is None:
        raise NotFoundError("No such invitation.")
    return admin_invitation_item(revoke_invitation(invitation.therapist, invitation_id, by=admin))
