"""What the services share: running in the database thread, and membership."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError
from django.db.models import QuerySet

from messaging.models import Conversation, Membership
from protocol.errors import NotFoundError, UnavailableError

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


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


def members_conversations(
    user_ids: Iterable[int], conversation_ids: Sequence[uuid.UUID]
) -> dict[int, dict[uuid.UUID, Conversation]]:
    """Of the conversations, those of which each user is an active member, by user and then
    by id: for a batch of syncs, one statement for up to ``IN_AT_ONCE`` of each."""
    found: dict[int, dict[uuid.UUID, Conversation]] = {}
    for users in chunks(sorted(set(user_ids))):
        for ids in chunks(conversation_ids):
            memberships = Membership.objects.filter(
                user_id__in=users, conversation_id__in=ids, user__is_active=True
            ).select_related("conversation")
            for membership in memberships:
                found.setdefault(membership.user_id, {})[membership.conversation_id] = (
                    membership.conversation
                )
    return found


# Values in one ``IN (...)``, at most: two such lists stay under SQLite's 999 parameters.
IN_AT_ONCE = 400


def chunks(values: Sequence[T]) -> list[Sequence[T]]:
    """``values`` in runs of at most ``IN_AT_ONCE``."""
    return [values[i : i + IN_AT_ONCE] for i in range(0, len(values), IN_AT_ONCE)]
