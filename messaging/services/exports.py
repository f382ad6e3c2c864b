"""Exports: the record that a member exported a conversation (crypto/SPEC.md, "Exports").

An export is made and decrypted on the member's own device; the server never sees it. What
it keeps is the audit log's line: who exported which conversation, when, in which role,
and how many messages the export holds, never a word of them. A discharged (read-only)
conversation can still be exported, so that the record survives its closing; one being
erased, or erased, holds nothing to export and refuses.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from audit.log import record
from messaging.models import Conversation
from messaging.services.common import member_conversation
from protocol.audit import AuditKind
from protocol.errors import ConversationClosedError

__all__ = ["record_export"]

_GONE = {
    Conversation.Status.ERASING: "being erased",
    Conversation.Status.ERASED: "erased",
}


def record_export(
    user: User, conversation_id: uuid.UUID, messages: int, request: HttpRequest | None = None
) -> datetime:
    """Records in the audit log that ``user``, a member, exported ``messages`` messages of
    the conversation; returns when. A conversation that is not the user's is ``not_found``;
    one being erased or erased is ``conversation_closed``."""
    with transaction.atomic():
        conversation = member_conversation(user.pk, conversation_id, lock=True)
        status = Conversation.Status(conversation.status)
        if status in _GONE:
            raise ConversationClosedError(
                f"This conversation is {_GONE[status]}: there is nothing left to export."
            )
        # Last: the audit log's head stays locked until the commit.
        event = record(
            AuditKind.EXPORT_MADE,
            request=request,
            actor=user,
            subject=f"conversation:{conversation.id}",
            details={"messages": messages, "role": str(user.role)},
        )
    return event.at
