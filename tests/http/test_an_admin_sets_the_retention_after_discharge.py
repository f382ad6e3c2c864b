"""``/api/admin/practice``: how many years a discharged conversation is kept before it is
erased, from 1 to 100; a POST without it keeps the one set."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import Practice
from tests.http.conftest import Browser
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def settings(admin: Browser) -> dict[str, Any]:
    reply = admin.get("/api/admin/practice")
    assert reply.status == 200, reply.content
    practice: dict[str, Any] = reply.json()["practice"]
    return practice


def test_an_admin_sets_the_retention_after_discharge(world: Practice5) -> None:
    admin = Browser().sign_in_as(world.admin)
    shown = settings(admin)
    assert shown["retention_years"] == 7
    for wrong in (0, 101, -1, "7", 2.5, None, True):
        reply = admin.post("/api/admin/practice", {**shown, "retention_years": wrong})
        if wrong is None:
            assert reply.status == 200  # absent or null: unchanged
            continue
        assert reply.status == 400, (wrong, reply.content)
        assert reply.code == "bad_request"
        assert "retention_years" in reply.json()["error"]["message"]
    assert Practice.objects.get(pk=world.practice.pk).retention_years == 7
    reply = admin.post("/api/admin/practice", {**shown, "retention_years": 10})
    assert reply.status == 200 and reply.json()["practice"]["retention_years"] == 10
    without = {key: value for key, value in shown.items() if key != "retention_years"}
    assert admin.post("/api/admin/practice", without).status == 200
    assert Practice.objects.get(pk=world.practice.pk).retention_years == 10
    assert settings(admin)["retention_years"] == 10
