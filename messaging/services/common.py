"""What the services share: running in the database thread, and membership."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet

from messaging.models import Conversation
from protocol.errors import NotFoundError, UnavailableError

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def in_db_thread(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Runs ``func`` in the database thread; a lost database becomes ``UnavailableError``."""

    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result: R = await database_sync_to_async(func)(*args, **kwargs)
            return result
        except (OperationalError, InterfaceError) as exc:
            log.warning("database unavailable: %s", type(exc).__name__)
            raise UnavailableError("The database is unavailable; nothing was stored.") from None

    return wrapper


def _of_member(user_id: int) -> QuerySet[Conversation]:
    """The conversations of which the user is an active member."""
    return Conversation.objects.filter(
        memberships__user_id=user_id, memberships__user__is_active=True
    )


def member_conversation(user_id: int, conversation_id: uuid.UUID, *, lock: bool) -> Conversation:
    """The conversation, if the user is an active member of it; otherwise ``NotFoundError``
    (the same answer whether or not it exists)."""
    query = _of_member(user_id).filter(id=conversation_id)
    if lock:
        query = query.select_for_update(of=("self",))
    conversation = query.first()
    if conversation is None:
        raise NotFoundError("No such conversation.")
    return conversation


def member_conversations(
    user_id: int, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Conversation]:
    """The conversations, by id, in one query, if the user is an active member of every
    one of them; otherwise ``NotFoundError``, as ``member_conversation``."""
    found = {c.id: c for c in _of_member(user_id).filter(id__in=conversation_ids)}
    if len(found) != len(set(conversation_ids)):
        raise NotFoundError("No such conversation.")
    return found
