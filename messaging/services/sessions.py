"""Sessions: closing a user's sockets when their access ends, and checking that every
open socket's session still holds.

Accounts announce that someone's access ended (sign-out, deactivation, a new
authentication secret) with the ``accounts.access.access_ended`` signal, after the commit;
``MessagingConfig.ready()`` connects :func:`close_sockets_when_access_ends` to it, so that
accounts need not know that messaging exists. The event that closes the sockets travels
through the channel layer, to every process, usually within a second. The layer may lose
it, and a session may simply expire, which nothing announces; so each process's
:class:`SessionWatch` also checks the sessions of all its sockets every
``CONFIDE_SESSION_RECHECK_SECONDS`` (30 by default), whether or not they send anything, and
closes those whose session no longer holds (docs/protocol.md, "Authorisation").
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from messaging.services import events

log = logging.getLogger(__name__)

# Sockets whose sessions one database call checks.
_CHUNK = 500


@dataclass(frozen=True)
class WatchedSocket:
    channel: str
    user_id: int
    session_key: str | None


def ended_sockets(sockets: list[WatchedSocket]) -> list[str]:
    """The channels of the sockets whose session no longer holds: gone or expired, naming
    another user, or the user inactive or with other credentials (runs in the database
    thread; two queries however many sockets)."""
    keys = {s.session_key for s in sockets if s.session_key}
    stored = {
        row.session_key: SessionStore().decode(row.session_data)
        for row in Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
    }
    users = {
        user.pk: user
        for user in User.objects.filter(pk__in={s.user_id for s in sockets}, is_active=True)
    }
    ended = []
    for socket in sockets:
        data = stored.get(socket.session_key or "")
        user = users.get(socket.user_id)
        if (
            data is None
            or user is None
            or str(data.get(SESSION_KEY)) != str(socket.user_id)
            or not constant_time_compare(
                str(data.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash()
            )
        ):
            ended.append(socket.channel)
    return ended


class SessionWatch:
    """The sockets of one event loop, whose sessions are checked together every
    ``CONFIDE_SESSION_RECHECK_SECONDS``; a socket whose session ended is sent
    ``session.revoked``, which closes it with 4001."""

    def __init__(self) -> None:
        self.sockets: dict[str, WatchedSocket] = {}
        self.task = asyncio.get_running_loop().create_task(self._run(), name="confide-sessions")

    def add(self, channel: str, user_id: int, session_key: str | None) -> None:
        self.sockets[channel] = WatchedSocket(channel, user_id, session_key)

    def discard(self, channel: str) -> None:
        self.sockets.pop(channel, None)

    async def check_now(self) -> list[str]:
        """Checks every socket's session now; returns the channels told to close."""
        watched = list(self.sockets.values())
        ended: list[str] = []
        for start in range(0, len(watched), _CHUNK):
            chunk = watched[start : start + _CHUNK]
            ended += await database_sync_to_async(ended_sockets)(chunk)
        layer = get_channel_layer()
        for channel in ended:
            if channel in self.sockets and layer is not None:
                await layer.send(channel, {"type": "session.revoked", "session_key": None})
        return ended

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(settings.CONFIDE_SESSION_RECHECK_SECONDS)
            if not self.sockets:
                continue
            try:
                await self.check_now()
            except Exception:
                # The next round tries again: no socket outlives its session by more than
                # the time the database stays unreachable.
                log.warning("could not check the sockets' sessions", exc_info=True)


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SessionWatch] = (
    weakref.WeakKeyDictionary()
)


def watch() -> SessionWatch:
    """The running event loop's watch, started on first use."""
    loop = asyncio.get_running_loop()
    found = _watches.get(loop)
    if found is None:
        found = _watches[loop] = SessionWatch()
    return found


def close_sockets_when_access_ends(
    sender: object, *, user_id: int, session_key: str | None = None, **kwargs: Any
) -> None:
    """Receives ``access_ended``: closes the user's sockets (one session's, when given)."""
    events.end_sessions_from_sync(user_id, session_key)
