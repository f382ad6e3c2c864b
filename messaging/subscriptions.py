"""``/api/me/push``: a member's Web Push subscriptions, one per browser that asked for
them (messaging.services.push; docs/protocol.md, "Web Push")."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.api import api, parse_body, signed_in_user
from messaging.models import PushSubscription
from messaging.services import push
from messaging.vapid import server_key
from protocol import http
from protocol.errors import BadRequestError, NotFoundError, UnavailableError


@api(methods=("GET",))
def push_settings(request: HttpRequest) -> http.PushSettings:
    """The key a browser subscribes with, and how many of the member's browsers did."""
    user = signed_in_user(request)
    key = server_key()
    return http.PushSettings(
        public_key=key.public if key is not None else None,
        subscriptions=PushSubscription.objects.filter(user_id=user.pk).count(),
    )


@api(methods=("POST",))
def push_subscribe(request: HttpRequest) -> http.OkAnswer:
    """Keeps this browser's subscription, tied to this session: signing out removes it."""
    user = signed_in_user(request)
    body = parse_body(request, http.PushSubscribeRequest)
    if server_key() is None:
        raise UnavailableError("This server sends no push notifications.")
    try:
        checked = push.check(body.endpoint, body.keys.p256dh, body.keys.auth)
    except push.SubscriptionError as exc:
        raise BadRequestError(f"Invalid request: {exc}") from None
    session_key = request.session.session_key
    if session_key is None:  # never, behind @api(auth=True)
        raise BadRequestError("Invalid request: no session.")
    push.subscribe(user.pk, session_key, checked)
    return http.OkAnswer(ok=True)


@api(methods=("POST",))
def push_unsubscribe(request: HttpRequest) -> http.OkAnswer:
    """Removes one of the member's own subscriptions; anyone else's is not found."""
    user = signed_in_user(request)
    body = parse_body(request, http.PushUnsubscribeRequest)
    if not push.remove(user.pk, body.endpoint):
        raise NotFoundError("You have no push subscription with this endpoint.")
    return http.OkAnswer(ok=True)
