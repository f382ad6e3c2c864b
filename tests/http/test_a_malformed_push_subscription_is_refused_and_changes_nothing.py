"""A subscription the server could not use, or that would make it post somewhere else than
a push service, is refused with ``bad_request`` saying why, and nothing is kept."""

from __future__ import annotations

from typing import Any

import pytest

from messaging.models import PushSubscription
from messaging.vapid import VapidKey
from tests.http.conftest import BrowserFor
from tests.http.push import SUBSCRIBE, b64url, server_key, subscription
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

__all__ = ["server_key"]


def with_endpoint(endpoint: str) -> dict[str, Any]:
    return subscription(endpoint)


def with_keys(**keys: str) -> dict[str, Any]:
    body = subscription()
    body["keys"] = {**body["keys"], **keys}
    return body


BAD = {
    "plain http": (with_endpoint("http://fcm.googleapis.com/fcm/send/x"), "https://"),
    "another host": (with_endpoint("https://169.254.169.254/latest/meta-data"), "push service"),
    "a look-alike host": (with_endpoint("https://fcm.googleapis.com.evil.example/x"), "push"),
    "loopback": (with_endpoint("https://127.0.0.1:8443/push"), "port 443"),
    # urlsplit reads this host as ending in an allowed suffix; requests posts to
    # attacker.example.
    "a backslash": (
        with_endpoint("https://attacker.example\\.push.apple.com/collect"),
        "backslash",
    ),
    "an escaped dot": (with_endpoint("https://169.254.169.254%2e.push.apple.com/x"), "host name"),
    "another port": (with_endpoint("https://fcm.googleapis.com:8443/x"), "port 443"),
    "credentials": (with_endpoint("https://user:pw@fcm.googleapis.com/x"), "user name"),
    "not a url": (with_endpoint("fcm.googleapis.com/x"), "https://"),
    "a space": (with_endpoint("https://fcm.googleapis.com/a b"), "printable"),
    "too long": (with_endpoint("https://fcm.googleapis.com/" + "a" * 1100), "1024"),
    "padded key": (with_keys(p256dh=subscription()["keys"]["p256dh"] + "="), "base64url"),
    "short key": (with_keys(p256dh=b64url(b"\x04" + b"\x01" * 32)), "65 bytes"),
    "off the curve": (with_keys(p256dh=b64url(b"\x04" + b"\x01" * 64)), "not a point"),
    "short auth": (with_keys(auth=b64url(b"\x00" * 8)), "16 bytes"),
    "missing keys": ({"endpoint": "https://fcm.googleapis.com/fcm/send/x"}, "keys"),
    "an unknown field": ({**subscription(), "push": True}, "push"),
    "not an object": ([], "Invalid request"),
}


@pytest.mark.parametrize("case", BAD.keys())
def test_it_is_refused_with_a_reason(
    world: Practice5, browser_for: BrowserFor, server_key: VapidKey, case: str
) -> None:
    body, reason = BAD[case]

    reply = browser_for(world.client).post(SUBSCRIBE, body)

    assert (reply.status, reply.code) == (400, "bad_request"), reply.content
    assert reason in reply.json()["error"]["message"]
    assert not PushSubscription.objects.exists()


def test_signed_out_it_is_refused(browser_for: BrowserFor, db: None) -> None:
    reply = browser_for(None).post(SUBSCRIBE, subscription())

    assert (reply.status, reply.code) == (401, "unauthenticated")
