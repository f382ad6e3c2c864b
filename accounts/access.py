"""Announcing that someone's access ended, for whoever holds something open for them.

``access_ended`` is sent after the commit of a sign-out (with that session's key), a
deactivation or a change of authentication secret (with ``session_key=None``: every
session). Accounts know nothing of what listens: the messaging app connects its receiver
in its ``AppConfig.ready()`` and closes the user's websockets.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

# Arguments: user_id (int), session_key (str | None).
access_ended = Signal()


def end_access(user_ids: Iterable[int], session_key: str | None = None) -> None:
    """Sends ``access_ended`` for each user once the current transaction commits (at once
    outside one), and never if it rolls back."""
    for user_id in list(user_ids):
        transaction.on_commit(
            lambda user_id=user_id: access_ended.send(  # type: ignore[misc]
                sender=end_access, user_id=user_id, session_key=session_key
            )
        )
