"""``/api/me/push``: a member's browser subscribes with the server's key; the subscription
is tied to the session, so signing out removes it, and a new one past the cap replaces the
oldest."""

from __future__ import annotations

from typing import Any

import pytest

from messaging.models import PushSubscription
from messaging.vapid import VapidKey
from tests.http.conftest import BrowserFor
from tests.http.push import SUBSCRIBE, UNSUBSCRIBE, server_key, subscription
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

__all__ = ["server_key"]


def test_clara_subscribes_with_the_servers_key_and_unsubscribes(
    world: Practice5, browser_for: BrowserFor, server_key: VapidKey
) -> None:
    clara = browser_for(world.client)
    assert clara.get("/api/me/push").json() == {
        "public_key": server_key.public,
        "subscriptions": 0,
    }
    mine = subscription()

    assert clara.post(SUBSCRIBE, mine).json() == {"ok": True}

    [kept] = PushSubscription.objects.all()
    assert (kept.user_id, kept.endpoint) == (world.client.id, mine["endpoint"])
    assert kept.session_id == clara.session_key
    assert mine["endpoint"] not in repr(kept)
    assert clara.get("/api/me/push").json()["subscriptions"] == 1
    assert clara.post(UNSUBSCRIBE, {"endpoint": mine["endpoint"]}).json() == {"ok": True}
    assert not PushSubscription.objects.exists()


def test_signing_out_removes_that_sessions_subscriptions_only(
    world: Practice5, browser_for: BrowserFor, server_key: VapidKey
) -> None:
    phone, laptop = browser_for(world.client), browser_for(world.client)
    phone.post(SUBSCRIBE, subscription())
    kept = subscription()
    laptop.post(SUBSCRIBE, kept)

    assert phone.post("/api/auth/signout").status == 200

    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept["endpoint"]]


def test_a_deactivated_account_loses_every_subscription(
    world: Practice5,
    browser_for: BrowserFor,
    server_key: VapidKey,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser_for(world.client).post(SUBSCRIBE, subscription())
    browser_for(world.client).post(SUBSCRIBE, subscription())

    with django_capture_on_commit_callbacks(execute=True):
        world.client.user.is_active = False
        world.client.user.save()

    assert not PushSubscription.objects.filter(user_id=world.client.id).exists()


def test_a_subscription_past_the_cap_replaces_the_oldest(
    world: Practice5, browser_for: BrowserFor, server_key: VapidKey, settings: Any
) -> None:
    settings.CONFIDE_PUSH_SUBSCRIPTIONS_PER_USER = 2
    clara = browser_for(world.client)
    endpoints = []
    for _ in range(3):
        body = subscription()
        endpoints.append(body["endpoint"])
        assert clara.post(SUBSCRIBE, body).status == 200

    kept = set(PushSubscription.objects.values_list("endpoint", flat=True))
    assert kept == set(endpoints[1:])


def test_a_browser_subscribed_again_belongs_to_whoever_signed_in_there_last(
    world: Practice5, browser_for: BrowserFor, server_key: VapidKey
) -> None:
    shared = subscription()
    browser_for(world.client).post(SUBSCRIBE, shared)

    browser_for(world.other_client).post(SUBSCRIBE, shared)

    [kept] = PushSubscription.objects.all()
    assert kept.user_id == world.other_client.id


def test_without_a_server_key_there_is_no_push(
    world: Practice5, browser_for: BrowserFor, settings: Any
) -> None:
    from messaging import vapid

    settings.CONFIDE_VAPID_PRIVATE_KEY = ""
    settings.PRODUCTION = True
    vapid._cached.clear()
    try:
        clara = browser_for(world.client)
        assert clara.get("/api/me/push").json()["public_key"] is None
        reply = clara.post(SUBSCRIBE, subscription())
        assert (reply.status, reply.code) == (503, "unavailable")
        assert not PushSubscription.objects.exists()
    finally:
        vapid._cached.clear()
