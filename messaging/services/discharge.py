"""Discharge: the therapist closes a conversation, which stays readable, and is read-only
for both members from then on (docs/records.md, docs/protocol.md "Discharge and erasure").

The status changes under the conversation's row lock, the lock every writer of messages
and epochs takes before it reads the status (``services.writer``, ``services.epochs``): a
send in flight is stored before the discharge commits, or refused with
``conversation_closed`` after it, never stored after it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from audit.log import record
from messaging.models import Conversation, Membership
from messaging.services import events
from messaging.services.common import member_conversation
from protocol.audit import AuditKind
from protocol.errors import ConversationClosedError
from protocol.to_client import ConversationStatusEvent

__all__ = ["closed_error", "discharge", "erase_after", "member_ids", "years_after"]


def years_after(at: dt.datetime, years: int) -> dt.datetime:
    """The same day and time ``years`` later (29 February becomes 28 February)."""
    try:
        return at.replace(year=at.year + years)
    except ValueError:
        return at.replace(year=at.year + years, day=28)


def erase_after(conversation: Conversation, retention_years: int) -> dt.datetime | None:
    """When the practice's retention of a discharged conversation ends."""
    if conversation.discharged_at is None:
        return None
    return years_after(conversation.discharged_at, retention_years)


def member_ids(conversation_id: uuid.UUID) -> list[int]:
    return list(
        Membership.objects.filter(conversation_id=conversation_id).values_list("user_id", flat=True)
    )


def closed_error(conversation: Conversation) -> ConversationClosedError:
    """Why nothing more can be written to a conversation that is not active, in words."""
    if conversation.status == Conversation.Status.DISCHARGED:
        when = conversation.discharged_at
        on = f" on {when:%Y-%m-%d}" if when else ""
        return ConversationClosedError(
            f"The conversation was discharged{on}: it is read-only; nothing was stored."
        )
    if conversation.status == Conversation.Status.ERASING:
        return ConversationClosedError("The conversation is being erased; nothing was stored.")
    return ConversationClosedError("The conversation was erased; nothing was stored.")


def discharge(
    therapist: User, conversation_id: uuid.UUID, request: HttpRequest | None = None
) -> Conversation:
    """The therapist, a member of the conversation, discharges it: read-only from now on for
    both, kept for the practice's retention. Both members' sockets are told after the
    commit. A conversation not active is refused with ``conversation_closed``."""
    with transaction.atomic():
        conversation = member_conversation(therapist.pk, conversation_id, lock=True)
        if conversation.status != Conversation.Status.ACTIVE:
            raise closed_error(conversation)
        now = timezone.now()
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.DISCHARGED, discharged_at=now, discharged_by=therapist
        )
        conversation.status = Conversation.Status.DISCHARGED
        conversation.discharged_at = now
        conversation.discharged_by = therapist
        events.publish_on_commit(
            member_ids(conversation.pk),
            ConversationStatusEvent(conversation=conversation.pk, status="discharged", at=now),
        )
        record(
            AuditKind.CONVERSATION_DISCHARGED,
            request=request,
            actor=therapist,
            subject=f"conversation:{conversation.pk}",
            details={
                "last_seq": conversation.last_seq,
                "retention_years": therapist.practice.retention_years,
            },
        )
    return conversation
