"""A kept subscription is checked again before each push: one whose endpoint the server
would refuse today (the allowed services changed, or it was kept by an older check) is
dropped, and nothing is posted to it."""

from __future__ import annotations

from typing import Any

import pytest

from messaging.models import PushSubscription
from messaging.services import push
from messaging.vapid import VapidKey
from tests.http.push import server_key

__all__ = ["server_key"]

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://attacker.example\\.push.apple.com/collect",
        "https://push.example.invalid/x",
        "https://fcm.googleapis.com:8443/x",
    ],
)
def test_it_is_dropped_without_a_request(
    server_key: VapidKey, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    def no_request() -> Any:
        raise AssertionError("nothing may be posted")

    monkeypatch.setattr(push, "_http", no_request)
    kept = PushSubscription(endpoint=endpoint, p256dh="x", auth="y", user_id=1)

    assert push.send(kept) is push.Outcome.GONE
    assert "attacker" not in repr(push.Checked(endpoint, "p", "a"))
