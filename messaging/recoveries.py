"""HTTP endpoints of an assisted recovery, the therapist's side (docs/protocol.md,
"Assisted recovery"): the pending requests of their clients, the envelopes of a long
history, the confirmation and the refusal. The client's request is
``accounts.assisted_recovery``."""

from __future__ import annotations

from django.http import HttpRequest

import crypto
from accounts.api import api, parse_body, signed_in_user
from accounts.assisted_recovery import state_of
from accounts.models import Role
from accounts.views import member_body
from messaging.services.recoveries import (
    Decided,
    ListedRecovery,
    confirm_recovery,
    decline_recovery,
    list_recoveries,
    stage_envelopes,
)
from protocol import http
from protocol.errors import BadRequestError


def recovery_item(listed: ListedRecovery) -> http.RecoveryItem:
    recovery = listed.recovery
    return http.RecoveryItem(
        id=recovery.pk,
        client=member_body(recovery.client),
        new_identity=crypto.b64encode(bytes(recovery.public_identity)),
        requested_at=recovery.requested_at,
        expires_at=recovery.expires_at,
        conversations=[
            http.RecoveryConversation(conversation=conversation, epochs=epochs)
            for conversation, epochs in sorted(listed.epochs.items())
        ],
    )


@api(methods=("GET",), roles=(Role.THERAPIST,))
def recoveries(request: HttpRequest) -> http.RecoveriesAnswer:
    """The pending assisted recoveries of the therapist's clients, oldest first."""
    therapist = signed_in_user(request)
    return http.RecoveriesAnswer(
        recoveries=[recovery_item(listed) for listed in list_recoveries(therapist)]
    )


def _decoded(text: str, where: str) -> bytes:
    try:
        return crypto.b64decode(text)
    except crypto.CryptoError as exc:
        raise BadRequestError(f"Invalid request: {where}: {exc}") from None


def _envelopes(body: http.RecoveryEnvelopesRequest) -> list[bytes]:
    """The body's envelopes, decoded (at most ``MAX_RECOVERY_ENVELOPES``: the schema's)."""
    return [_decoded(text, f"envelopes.{index}") for index, text in enumerate(body.envelopes)]


@api(methods=("POST",), roles=(Role.THERAPIST,))
def recovery_envelopes(request: HttpRequest, recovery_id: int) -> http.RecoveryStagedAnswer:
    """A batch of the therapist's envelopes for a pending request, kept until they confirm."""
    body = parse_body(request, http.RecoveryEnvelopesRequest)
    staged = stage_envelopes(signed_in_user(request), recovery_id, _envelopes(body))
    return http.RecoveryStagedAnswer(
        recovery=staged.recovery.pk, staged=staged.staged, missing=staged.missing
    )


@api(methods=("POST",), roles=(Role.THERAPIST,))
def recovery_confirm(request: HttpRequest, recovery_id: int) -> http.RecoveryDecisionAnswer:
    """The therapist compared the new identity's number with the client, and confirms,
    with the identity succession their browser signed."""
    therapist = signed_in_user(request)
    body = parse_body(request, http.RecoveryConfirmRequest)
    succession = _decoded(body.succession, "succession")
    return decision(confirm_recovery(therapist, recovery_id, _envelopes(body), succession))


@api(methods=("POST",), roles=(Role.THERAPIST,))
def recovery_decline(request: HttpRequest, recovery_id: int) -> http.RecoveryDecisionAnswer:
    """The therapist refuses the request; the account stays as it was."""
    return decision(decline_recovery(signed_in_user(request), recovery_id))


def decision(decided: Decided) -> http.RecoveryDecisionAnswer:
    return http.RecoveryDecisionAnswer(
        recovery=decided.recovery.pk,
        state=state_of(decided.recovery),
        client=member_body(decided.client),
        conversations=decided.conversations,
    )
