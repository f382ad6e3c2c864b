"""``/api/conversations/<id>/disclosures``: the conversation's accounting of disclosures
(docs/protocol.md, "Disclosures"). The therapist records one; both members list them."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

import crypto
from accounts.api import api, parse_body, signed_in_user
from accounts.signup import decode
from messaging.models import Disclosure
from messaging.services.common import member_conversation
from messaging.services.disclosures import NewDisclosure, list_disclosures, record_disclosure
from protocol import http
from protocol.errors import ForbiddenError


@api(methods=("GET", "POST"))
def disclosures(
    request: HttpRequest, conversation_id: uuid.UUID
) -> http.DisclosuresAnswer | http.DisclosureAnswer:
    """``GET``: the records, oldest first, for either member. ``POST``: the conversation's
    therapist records one (the description sealed by their client)."""
    user = signed_in_user(request)
    if request.method == "GET":
        return http.DisclosuresAnswer(
            disclosures=[item(d) for d in list_disclosures(user, conversation_id)]
        )
    # Who may record is said before what was sent is looked at: a client, an admin or a
    # therapist of another conversation learns nothing from the body's shape.
    if not user.is_therapist:
        raise ForbiddenError("Only the conversation's therapist records a disclosure.")
    member_conversation(user.pk, conversation_id, lock=False)
    body = parse_body(request, http.DisclosureRequest)
    new = NewDisclosure(
        id=body.id,
        disclosed_on=body.disclosed_on,
        legal_basis=body.legal_basis,
        epoch=body.epoch,
        sealed=decode(body.sealed, "sealed"),
    )
    return http.DisclosureAnswer(
        disclosure=item(record_disclosure(user, conversation_id, new, request))
    )


def item(disclosure: Disclosure) -> http.DisclosureItem:
    return http.DisclosureItem(
        id=disclosure.id,
        conversation=disclosure.conversation_id,
        recorded_by=disclosure.recorded_by_id,
        recorded_at=disclosure.recorded_at,
        disclosed_on=disclosure.disclosed_on,
        legal_basis=disclosure.legal_basis,  # type: ignore[arg-type]
        epoch=disclosure.epoch,
        sealed=crypto.b64encode(bytes(disclosure.sealed)),
    )
