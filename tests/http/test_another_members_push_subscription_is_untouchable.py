"""One member cannot remove, or learn of, another member's push subscription: removing an
endpoint that is not theirs answers ``not_found`` and changes nothing."""

from __future__ import annotations

import pytest

from messaging.models import PushSubscription
from messaging.vapid import VapidKey
from tests.http.conftest import BrowserFor
from tests.http.push import SUBSCRIBE, UNSUBSCRIBE, server_key, subscription
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

__all__ = ["server_key"]


def test_olivers_removal_of_claras_endpoint_is_not_found(
    world: Practice5, browser_for: BrowserFor, server_key: VapidKey
) -> None:
    claras = subscription()
    browser_for(world.client).post(SUBSCRIBE, claras)
    oliver = browser_for(world.other_client)

    reply = oliver.post(UNSUBSCRIBE, {"endpoint": claras["endpoint"]})

    assert (reply.status, reply.code) == (404, "not_found")
    assert PushSubscription.objects.get().user_id == world.client.id
    assert oliver.get("/api/me/push").json()["subscriptions"] == 0
