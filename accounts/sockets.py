"""Who opened a websocket: the session of its cookie and the user it signed in, read in one
trip to the database thread.

Django's own ``auth.get_user`` decides, as for every HTTP request: the session's user, its
backend, and the session's hash of the password, checked against the user's row (a
password changed since makes the session worthless). For a therapist or admin the same
trip asks whether they still have to enrol a second factor, which the consumer refuses.

Channels' ``AuthMiddlewareStack`` does the same from three wrappers: the session and the
user as lazy objects, and a ``send`` wrapped for the socket's whole life to save a session
that a socket never changes (its check ran on every frame sent). A reconnect storm is
made of handshakes, so this one does the handshake's reading at once, and hands the
consumer the socket's own ``send``.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from django.utils.module_loading import import_string

from accounts.factors import STAFF_ROLES, needs_enrolment

ASGIApp = Any

# Set in the scope when a therapist or admin has no second factor yet.
ENROLMENT_REQUIRED = "confide.enrolment_required"


def session_key_of(scope: dict[str, Any]) -> str | None:
    """The session cookie's value, from every ``Cookie`` header of the handshake."""
    headers = [value for name, value in scope.get("headers", ()) if name == b"cookie"]
    if not headers:
        return None
    cookies = parse_cookie(b"; ".join(headers).decode("latin-1"))
    return cookies.get(settings.SESSION_COOKIE_NAME) or None


def authenticate(session_key: str | None) -> tuple[SessionBase, Any, bool]:
    """The session, its user (``AnonymousUser`` when it signs in nobody, or no longer
    verifies), and whether that user is staff without a second factor."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    session: SessionBase = store(session_key)
    user: Any = AnonymousUser()
    if session_key:
        request = HttpRequest()  # what ``auth.get_user`` reads of it is its session
        request.session = session
        user = auth.get_user(request)
    enrol = bool(user.is_authenticated and user.role in STAFF_ROLES and needs_enrolment(user))
    return session, user, enrol


_authenticate = database_sync_to_async(authenticate)


class SocketAuth:
    """Puts ``session``, ``user`` and, for staff without a second factor,
    ``ENROLMENT_REQUIRED`` in a websocket's scope, read in one database trip."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        session, user, enrol = await _authenticate(session_key_of(scope))
        scope = {**scope, "session": session, "user": user, ENROLMENT_REQUIRED: enrol}
        return await self.inner(scope, receive, send)
