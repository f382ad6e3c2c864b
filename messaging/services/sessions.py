"""Sessions: whether a socket's session still holds, and closing sockets when access ends.

Accounts announce that someone's access ended (sign-out, deactivation, a new
authentication secret) with the ``accounts.access.access_ended`` signal, after the commit;
``MessagingConfig.ready()`` connects :func:`close_sockets_when_access_ends` to it, so that
accounts need not know that messaging exists. The event that closes the sockets travels
through the channel layer, which may lose it; each socket therefore also re-checks its
session every ``SESSION_RECHECK_SECONDS`` at its next frame.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare

from accounts.models import User
from messaging.services import events

SESSION_RECHECK_SECONDS = 30.0


def session_still_valid(session_key: str | None, user_id: int) -> bool:
    """The session exists, names this user, and the user is active with the same
    credentials (runs in the database thread)."""
    if not session_key:
        return False
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()
    if str(data.get(SESSION_KEY)) != str(user_id):
        return False
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    return constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash())


def close_sockets_when_access_ends(
    sender: object, *, user_id: int, session_key: str | None = None, **kwargs: Any
) -> None:
    """Receives ``access_ended``: closes the user's sockets (one session's, when given)."""
    async_to_sync(events.end_sessions)(user_id, session_key)
