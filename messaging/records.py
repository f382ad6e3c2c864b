"""The admin console's view of discharged conversations (``/api/admin/records``): who and
when, when the practice's retention erases each, and a recorded request to erase one now
(``services.erasure``). Never content: an admin holds no conversation key."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch
from django.http import HttpRequest

from accounts.api import api, parse_body, signed_in_user
from accounts.models import Role
from messaging.models import Conversation, Membership
from messaging.services.discharge import erase_after
from messaging.services.erasure import request_erasure
from protocol import practice as body

_SHOWN = (
    Conversation.Status.DISCHARGED,
    Conversation.Status.ERASING,
    Conversation.Status.ERASED,
)


def record_item(conversation: Conversation, retention_years: int) -> body.AdminRecordItem:
    names = {m.user.role: m.user.display_name for m in conversation.memberships.all()}
    status = conversation.status
    return body.AdminRecordItem(
        conversation=conversation.pk,
        therapist=names.get(Role.THERAPIST, ""),
        client=names.get(Role.CLIENT, ""),
        status=status,  # type: ignore[arg-type]  # one of _SHOWN
        discharged_at=conversation.discharged_at,
        erase_after=(
            erase_after(conversation, retention_years)
            if status == Conversation.Status.DISCHARGED
            else None
        ),
        erasure_requested_at=conversation.erasure_requested_at,
        erased_at=conversation.erased_at,
    )


def _records(practice_id: int, conversation_id: uuid.UUID | None = None) -> list[Conversation]:
    query = Conversation.objects.filter(practice_id=practice_id, status__in=_SHOWN)
    if conversation_id is not None:
        query = query.filter(pk=conversation_id)
    return list(
        query.prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("user"))
        ).order_by("-discharged_at")
    )


@api(methods=("GET",), roles=(Role.ADMIN,))
def records(request: HttpRequest) -> body.AdminRecordsAnswer:
    """The practice's discharged, erasing and erased conversations."""
    admin = signed_in_user(request)
    years = admin.practice.retention_years
    return body.AdminRecordsAnswer(
        retention_years=years,
        records=[record_item(c, years) for c in _records(admin.practice_id)],
    )


@api(methods=("POST",), roles=(Role.ADMIN,))
def record_erase(request: HttpRequest, conversation_id: uuid.UUID) -> body.AdminRecordAnswer:
    """Records a request to erase a discharged conversation now; the worker erases it."""
    admin = signed_in_user(request)
    wanted = parse_body(request, body.ErasureRequest)
    request_erasure(admin, conversation_id, wanted.reason, request)
    years = admin.practice.retention_years
    return body.AdminRecordAnswer(
        record=record_item(_records(admin.practice_id, conversation_id)[0], years)
    )
