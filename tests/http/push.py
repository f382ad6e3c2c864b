"""Web Push material for the HTTP tests: a server key in force, and subscriptions as a
browser's ``PushSubscription.toJSON()`` gives them (keys of its own)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from messaging import vapid

SUBSCRIBE = "/api/me/push/subscribe"
UNSUBSCRIBE = "/api/me/push/unsubscribe"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def subscription(endpoint: str | None = None) -> dict[str, Any]:
    """A browser's subscription on Chrome's push service, with fresh keys."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": endpoint or f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(16)}",
        "expirationTime": None,
        "keys": {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))},
    }


@pytest.fixture
def server_key(settings: Any) -> Iterator[vapid.VapidKey]:
    """A VAPID key from the environment, as production has it."""
    settings.CONFIDE_VAPID_PRIVATE_KEY = vapid.generate_private_key()
    vapid._cached.clear()
    key = vapid.server_key()
    assert key is not None
    yield key
    vapid._cached.clear()
