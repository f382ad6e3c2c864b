"""``POST /api/agreement``: a client's acceptance of the messaging agreement is recorded on
the server (version and time), so that every browser of theirs knows it and the practice
has the record (DESIGN.md section 6)."""

from __future__ import annotations

from datetime import datetime

import pytest

from accounts.agreement import DEFAULT_TEXTS, publish_agreement
from accounts.models import AgreementAcceptance
from tests.http.conftest import BrowserFor
from tests.personas import Practice5, make_practice

pytestmark = pytest.mark.django_db

AGREEMENT = "/api/agreement"


@pytest.fixture
def world(db: None) -> Practice5:
    """The personas before their clients accepted the agreement (the default, 2025-1)."""
    return make_practice(agreed=False)


def test_a_client_accepts_and_every_later_sign_in_knows_it(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    assert clara.get("/api/me").json()["user"]["agreement"] is None

    reply = clara.post(AGREEMENT, {"version": "2025-1"})

    assert reply.status == 200, reply.content
    recorded = reply.json()["agreement"]
    assert recorded["version"] == "2025-1"
    row = AgreementAcceptance.objects.get(user=world.client.user)
    assert (row.version, row.accepted_at) == (
        "2025-1",
        datetime.fromisoformat(recorded["accepted_at"]),
    )
    # Another browser of hers (a new session) sees the same record.
    assert browser_for(world.client).get("/api/me").json()["user"]["agreement"] == recorded


def test_accepting_a_version_again_keeps_the_first_record(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    first = clara.post(AGREEMENT, {"version": "2025-1"}).json()["agreement"]

    again = clara.post(AGREEMENT, {"version": "2025-1"}).json()["agreement"]

    assert again == first
    assert AgreementAcceptance.objects.filter(user=world.client.user).count() == 1


def test_a_new_version_is_recorded_beside_the_old_one_and_becomes_the_latest(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    clara.post(AGREEMENT, {"version": "2025-1"})
    publish_agreement(world.practice, "2026-1", DEFAULT_TEXTS["2025-1"])

    newer = clara.post(AGREEMENT, {"version": "2026-1"}).json()["agreement"]

    assert clara.get("/api/me").json()["user"]["agreement"] == newer
    versions = AgreementAcceptance.objects.filter(user=world.client.user).values_list(
        "version", flat=True
    )
    assert sorted(versions) == ["2025-1", "2026-1"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"version": ""},
        {"version": "x" * 33},
        {"version": "2025 1"},
        {"version": 2025},
        {"version": "2025-1", "accepted_at": "2020-01-01T00:00:00Z"},
    ],
    ids=["missing", "empty", "too long", "space", "number", "a time of its own"],
)
def test_a_malformed_request_is_refused_and_nothing_is_recorded(
    world: Practice5, browser_for: BrowserFor, body: dict[str, object]
) -> None:
    reply = browser_for(world.client).post(AGREEMENT, body)

    assert reply.status == 400
    assert reply.code == "bad_request"
    assert not AgreementAcceptance.objects.exists()


def test_another_clients_acceptance_is_not_shown(world: Practice5, browser_for: BrowserFor) -> None:
    browser_for(world.client).post(AGREEMENT, {"version": "2025-1"})

    assert browser_for(world.other_client).get("/api/me").json()["user"]["agreement"] is None
