"""``POST /api/agreement`` records an acceptance only of the practice's current version: an
old one (the text changed since it was shown), an unknown one or another practice's is
``agreement_required``, and nothing is recorded."""

from __future__ import annotations

import pytest

from accounts.agreement import DEFAULT_TEXTS, publish_agreement
from accounts.models import AgreementAcceptance, Practice
from tests.http.conftest import BrowserFor, Reply
from tests.personas import Practice5, make_practice

pytestmark = pytest.mark.django_db

AGREEMENT = "/api/agreement"
TEXT = DEFAULT_TEXTS["2025-1"]


@pytest.fixture
def world(db: None) -> Practice5:
    """The personas before their clients accepted the agreement (the default, 2025-1)."""
    return make_practice(agreed=False)


def assert_refused(reply: Reply) -> None:
    assert (reply.status, reply.code) == (403, "agreement_required"), reply.content


def test_the_current_version_is_accepted(world: Practice5, browser_for: BrowserFor) -> None:
    reply = browser_for(world.client).post(AGREEMENT, {"version": "2025-1"})

    assert reply.status == 200, reply.content
    assert AgreementAcceptance.objects.filter(user=world.client.user, version="2025-1").exists()


def test_an_old_version_is_refused_once_a_new_one_is_published(
    world: Practice5, browser_for: BrowserFor
) -> None:
    publish_agreement(world.practice, "2026-1", TEXT)

    reply = browser_for(world.client).post(AGREEMENT, {"version": "2025-1"})

    assert_refused(reply)
    assert "GET /api/agreement" in reply.json()["error"]["message"]
    assert not AgreementAcceptance.objects.exists()


@pytest.mark.parametrize("version", ["1999-9", "2026-1", "2025-1.1"])
def test_a_version_the_practice_never_published_is_refused(
    world: Practice5, browser_for: BrowserFor, version: str
) -> None:
    reply = browser_for(world.client).post(AGREEMENT, {"version": version})

    assert_refused(reply)
    assert not AgreementAcceptance.objects.exists()


def test_another_practices_current_version_is_refused(
    world: Practice5, browser_for: BrowserFor
) -> None:
    publish_agreement(Practice.objects.create(name="Lakeview"), "lakeview-1", TEXT)

    reply = browser_for(world.client).post(AGREEMENT, {"version": "lakeview-1"})

    assert_refused(reply)
    assert not AgreementAcceptance.objects.exists()


def test_an_earlier_acceptance_is_kept_when_a_new_version_is_accepted(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    first = clara.post(AGREEMENT, {"version": "2025-1"}).json()["agreement"]
    publish_agreement(world.practice, "2026-1", TEXT)

    assert_refused(clara.post(AGREEMENT, {"version": "2025-1"}))
    assert clara.post(AGREEMENT, {"version": "2026-1"}).status == 200

    current = clara.get(AGREEMENT).json()
    assert current["agreement"]["version"] == "2026-1"
    assert current["accepted"]["version"] == "2026-1"
    kept = AgreementAcceptance.objects.get(user=world.client.user, version="2025-1")
    assert kept.accepted_at.isoformat() == first["accepted_at"]
