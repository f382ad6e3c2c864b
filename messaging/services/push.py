"""Web Push (docs/operations.md, "Web Push"): each browser's subscription, and the notice
sent to it, which says only that a secure message waits.

The sending is pywebpush's (docs/architecture.md says why): it signs each request with the
server's VAPID key (RFC 8292) and encrypts the payload to the browser's keys (RFC 8291,
``aes128gcm``), so the push service in between reads nothing, and there is nothing to
read: the payload is the same fixed text for everyone, naming no one.

A subscription names a URL the server will post to; it is accepted only on a push service
of ``CONFIDE_PUSH_SERVICES`` over https, and the server follows no redirect, so that no
one can point it at another host. It is tied to the session that made it
(:class:`~messaging.models.PushSubscription`), and a person keeps at most
``CONFIDE_PUSH_SUBSCRIPTIONS_PER_USER``: a new one beyond that replaces their oldest.
"""

from __future__ import annotations

import enum
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging.models import PushSubscription
from messaging.vapid import b64url_decode, server_key

__all__ = [
    "PAYLOAD",
    "Outcome",
    "SubscriptionError",
    "live_subscriptions",
    "remove",
    "send",
    "subscribe",
]

log = logging.getLogger(__name__)

# The whole payload: no name, no text, no conversation, no practice. The service worker
# shows its own fixed words whatever arrives (frontend/static/frontend/service-worker.js).
PAYLOAD = json.dumps({"v": 1, "type": "message_waiting"}, separators=(",", ":"))
# Collapses notices the push service still holds for an offline phone into one (RFC 8030).
TOPIC = "message-waiting"
MAX_ENDPOINT = 1024


class SubscriptionError(ValueError):
    """A subscription that cannot be used; the message says exactly why."""


@dataclass(frozen=True)
class Checked:
    # The endpoint is a capability and ``auth`` a secret: neither in a repr.
    endpoint: str = field(repr=False)
    p256dh: str = field(repr=False)
    auth: str = field(repr=False)


# The authority of an endpoint: a host name of letters, digits, dots and hyphens, and no port
# but 443. Anything else (a backslash, a percent sign, an "@") is read differently by
# urlsplit and by the HTTP library that posts, so the host checked could differ from the
# host reached.
_AUTHORITY = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::443)?$")
_LOOPBACK_AUTHORITY = re.compile(r"^127\.0\.0\.1:[0-9]{1,5}$")


def check(endpoint: str, p256dh: str, auth: str) -> Checked:
    """The subscription as the browser's ``PushSubscription.toJSON()`` gives it, checked:
    an https URL of an allowed push service, a P-256 point and a 16-byte secret."""
    if len(endpoint) > MAX_ENDPOINT:
        raise SubscriptionError(f"The endpoint may be at most {MAX_ENDPOINT} characters.")
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in endpoint):
        raise SubscriptionError("The endpoint must be a URL of printable ASCII characters.")
    _check_endpoint(endpoint)
    try:
        key = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except ValueError:
        raise SubscriptionError("The keys must be unpadded base64url.") from None
    if len(key) != 65 or key[0] != 4:
        raise SubscriptionError("keys.p256dh must be an uncompressed P-256 point (65 bytes).")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError:
        raise SubscriptionError("keys.p256dh is not a point of P-256.") from None
    if len(secret) != 16:
        raise SubscriptionError("keys.auth must be exactly 16 bytes long.")
    return Checked(endpoint, p256dh, auth)


def _check_endpoint(endpoint: str) -> None:
    """Raises ``SubscriptionError`` unless ``endpoint`` is an https URL of an allowed push
    service, spelled so that every URL parser reads the same host."""
    if "\\" in endpoint:
        raise SubscriptionError("The endpoint may not contain a backslash.")
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        _ = parts.port
    except ValueError:
        raise SubscriptionError("The endpoint is not a URL.") from None
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise SubscriptionError("The endpoint may carry no user name, password or fragment.")
    loopback_http = (
        settings.CONFIDE_PUSH_ALLOW_HTTP
        and parts.scheme == "http"
        and _LOOPBACK_AUTHORITY.fullmatch(parts.netloc) is not None
    )
    if parts.scheme != "https" and not loopback_http:
        raise SubscriptionError("The endpoint must be an https:// URL.")
    if loopback_http:
        return
    if _AUTHORITY.fullmatch(parts.netloc) is None:
        raise SubscriptionError(
            "The endpoint's host must be a plain host name (letters, digits, dots, hyphens), "
            "on port 443."
        )
    if not _allowed_service(host):
        raise SubscriptionError("The endpoint is not on a push service this server uses.")


def _allowed_service(host: str) -> bool:
    for allowed in settings.CONFIDE_PUSH_SERVICES:
        allowed = allowed.lower()
        if allowed.startswith("."):
            if host.endswith(allowed) and len(host) > len(allowed):
                return True
        elif host == allowed:
            return True
    return False


def subscribe(user_id: int, session_key: str, subscription: Checked) -> None:
    """Keeps the browser's subscription for this person and session. A browser has one
    endpoint: subscribed again (by whoever signs in there now) it is theirs alone."""
    limit: int = settings.CONFIDE_PUSH_SUBSCRIPTIONS_PER_USER
    with transaction.atomic():
        PushSubscription.objects.update_or_create(
            endpoint=subscription.endpoint,
            defaults={
                "user_id": user_id,
                "session_id": session_key,
                "p256dh": subscription.p256dh,
                "auth": subscription.auth,
                "created_at": timezone.now(),
            },
        )
        mine = PushSubscription.objects.filter(user_id=user_id).order_by("-created_at", "-pk")
        over = list(mine.values_list("pk", flat=True)[limit:])
        if over:
            PushSubscription.objects.filter(pk__in=over).delete()


def remove(user_id: int, endpoint: str) -> bool:
    """Removes the person's own subscription; False when they have none at ``endpoint``
    (someone else's is never touched)."""
    deleted, _ = PushSubscription.objects.filter(user_id=user_id, endpoint=endpoint).delete()
    return deleted > 0


def remove_when_access_ends(
    sender: object, user_id: int, session_key: str | None, **_: object
) -> None:
    """Receives ``accounts.access.access_ended``: a signed-out session's subscriptions go
    (its row's deletion takes them too), and all of a person's when every session ends
    (deactivation, a new password)."""
    mine = PushSubscription.objects.filter(user_id=user_id)
    if session_key is not None:
        mine = mine.filter(session_id=session_key)
    mine.delete()


def live_subscriptions(user_id: int) -> list[PushSubscription]:
    """The person's subscriptions whose session has not expired."""
    return list(
        PushSubscription.objects.filter(user_id=user_id, session__expire_date__gt=timezone.now())
    )


class Outcome(enum.Enum):
    SENT = "sent"
    GONE = "gone"  # 404 or 410: the subscription was removed
    RETRY = "retry"  # 429, 5xx, no answer: try again later
    REFUSED = "refused"  # any other answer: trying again would not help


_sessions = threading.local()


def _http() -> requests.Session:
    """One HTTP session per worker thread; it follows no redirect, so a push service can
    send the server nowhere but where the subscription said."""
    session: requests.Session | None = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        session.max_redirects = 0
        _sessions.session = session
    return session


def _subject() -> str:
    subject: str = settings.CONFIDE_VAPID_SUBJECT
    if subject:
        return subject
    # Not the portal's address: a push service sees it with every notice, and the address
    # may name the practice.
    address = settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">")
    return "mailto:" + (address or "root@localhost")


def send(subscription: PushSubscription) -> Outcome:
    """Sends the notice to one subscription. Logs only the outcome and the push service's
    status: an answer's body may quote the endpoint."""
    from py_vapid import Vapid
    from pywebpush import WebPushException, webpush

    key = server_key()
    if key is None:
        return Outcome.REFUSED
    try:
        # Checked again: the allowed services may have changed since it was kept.
        _check_endpoint(subscription.endpoint)
    except SubscriptionError:
        PushSubscription.objects.filter(pk=subscription.pk).delete()
        log.warning("a push subscription of user %s is no longer allowed", subscription.user_id)
        return Outcome.GONE
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=PAYLOAD,
            vapid_private_key=Vapid.from_raw(key.private_raw.encode("ascii")),
            vapid_claims={"sub": _subject()},
            content_encoding="aes128gcm",
            ttl=settings.CONFIDE_PUSH_TTL_SECONDS,
            timeout=settings.CONFIDE_PUSH_TIMEOUT_SECONDS,
            headers={"Urgency": "normal", "Topic": TOPIC},
            requests_session=_http(),
        )
    except WebPushException as exc:
        status = exc.status_code
        if status in (404, 410):
            PushSubscription.objects.filter(pk=subscription.pk).delete()
            log.info("a push subscription of user %s is gone (%s)", subscription.user_id, status)
            return Outcome.GONE
        if status is None or status == 429 or status >= 500:
            log.info("a push service answered %s; trying again later", status)
            return Outcome.RETRY
        log.warning("a push service refused a notice (%s)", status)
        return Outcome.REFUSED
    except requests.TooManyRedirects:
        log.warning("a push service answered with a redirect; not followed")
        return Outcome.REFUSED
    except requests.RequestException as exc:
        log.info("a push service could not be reached (%s)", type(exc).__name__)
        return Outcome.RETRY
    return Outcome.SENT
