"""Read receipts and typing notices."""

from __future__ import annotations

import uuid

from django.db import transaction

from messaging.models import Membership
from messaging.services import events
from messaging.services.common import in_db_thread, member_conversation
from protocol.to_client import ReadEvent, TypingEvent


def _mark_read(user_id: int, conversation_id: uuid.UUID, seq: int) -> tuple[int, tuple[int, ...]]:
    with transaction.atomic():
        conversation = member_conversation(user_id, conversation_id, lock=False)
        seq = min(seq, conversation.last_seq)
        Membership.objects.filter(
            conversation=conversation, user_id=user_id, last_read_seq__lt=seq
        ).update(last_read_seq=seq)
        return seq, _member_ids_of(conversation.pk)


def _member_ids(user_id: int, conversation_id: uuid.UUID) -> tuple[int, ...]:
    return _member_ids_of(member_conversation(user_id, conversation_id, lock=False).pk)


def _member_ids_of(conversation_pk: uuid.UUID) -> tuple[int, ...]:
    return tuple(
        Membership.objects.filter(conversation_id=conversation_pk).values_list("user_id", flat=True)
    )


_mark_read_async = in_db_thread(_mark_read)
_member_ids_async = in_db_thread(_member_ids)


async def mark_read(user_id: int, conversation_id: uuid.UUID, seq: int) -> int:
    """Records that the user has read up to ``seq`` (clamped to the last message) and
    tells the members; returns the recorded number."""
    seq, member_ids = await _mark_read_async(user_id, conversation_id, seq)
    await events.publish(member_ids, ReadEvent(conversation=conversation_id, user=user_id, seq=seq))
    return seq


async def typing(user_id: int, conversation_id: uuid.UUID) -> None:
    """Tells the other members that the user is typing; nothing is stored."""
    members = await _member_ids_async(user_id, conversation_id)
    others = [m for m in members if m != user_id]
    await events.publish(others, TypingEvent(conversation=conversation_id, user=user_id))
