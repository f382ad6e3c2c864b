"""``GET /api/agreement``: the server is the source of the messaging agreement's text and
version, per practice (DESIGN.md section 6); every signed-in person reads their own
practice's current one, and whether they accepted it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.agreement import DEFAULT_TEXTS, DEFAULT_VERSION, publish_agreement, sections_json
from accounts.models import AgreementVersion, Practice, Role, User
from protocol.http import AgreementSection, CurrentAgreementAnswer
from tests.http.conftest import Browser, BrowserFor, make_account
from tests.personas import Person, Practice5, make_practice

pytestmark = pytest.mark.django_db

AGREEMENT = "/api/agreement"
LAKEVIEW_TEXT = [
    AgreementSection(heading="Lakeview's own", paragraphs=["Replies within one business day."])
]


def served(person: Person | User) -> CurrentAgreementAnswer:
    """What ``GET /api/agreement`` answers this person, read with the protocol's model."""
    browser = Browser()
    browser.client.force_login(person if isinstance(person, User) else person.user)
    reply = browser.get(AGREEMENT)
    assert reply.status == 200, reply.content
    return CurrentAgreementAnswer.model_validate_json(reply.content)


@pytest.mark.parametrize("who", ["client", "therapist", "other_client", "admin"])
def test_every_signed_in_person_reads_their_practices_default_text(
    world: Practice5, who: str
) -> None:
    answer = served(getattr(world, who))

    row = AgreementVersion.objects.get(practice=world.practice)
    assert answer.agreement.version == DEFAULT_VERSION == "2025-1"
    assert answer.agreement.published_at == row.published_at
    assert answer.agreement.sections == list(DEFAULT_TEXTS[DEFAULT_VERSION])
    headings = [section.heading for section in answer.agreement.sections]
    assert "Not for emergencies" in headings
    assert "Confidentiality and its limits" in headings


def test_a_client_reads_their_own_acceptance_of_the_current_version(world: Practice5) -> None:
    answer = served(world.client)

    acceptance = world.client.user.agreements.get()
    assert answer.accepted is not None
    assert (answer.accepted.version, answer.accepted.accepted_at) == (
        "2025-1",
        acceptance.accepted_at,
    )
    # Therapists and admins accept nothing.
    assert served(world.therapist).accepted is None
    assert served(world.admin).accepted is None


def test_a_client_who_has_not_accepted_reads_no_acceptance(db: None) -> None:
    world = make_practice(agreed=False)

    assert served(world.client).accepted is None


def test_the_latest_published_version_is_the_current_one(world: Practice5) -> None:
    published = publish_agreement(world.practice, "2026-1", LAKEVIEW_TEXT)

    answer = served(world.client)

    assert answer.agreement.version == "2026-1"
    assert answer.agreement.published_at == published.published_at
    assert answer.agreement.sections == LAKEVIEW_TEXT
    # Clara accepted 2025-1, not this one.
    assert answer.accepted is None


def test_a_version_published_earlier_does_not_replace_the_current_one(world: Practice5) -> None:
    current = AgreementVersion.objects.get(practice=world.practice)
    publish_agreement(
        world.practice,
        "2024-9",
        LAKEVIEW_TEXT,
        published_at=current.published_at - timedelta(days=1),
    )

    assert served(world.client).agreement.version == "2025-1"


def test_each_practice_serves_its_own_text(world: Practice5) -> None:
    lakeview = Practice.objects.create(name="Lakeview")
    publish_agreement(lakeview, "lakeview-2", LAKEVIEW_TEXT)
    sam = make_account(lakeview, "sam@lakeview.invalid", Role.CLIENT).user

    theirs = served(sam)
    ours = served(world.client)

    assert (theirs.agreement.version, theirs.agreement.sections) == ("lakeview-2", LAKEVIEW_TEXT)
    assert ours.agreement.version == "2025-1"


def test_a_new_practice_starts_with_the_default_text(world: Practice5) -> None:
    before = datetime.now(UTC)
    practice = Practice.objects.create(name="Riverside")

    [first] = AgreementVersion.objects.filter(practice=practice)
    assert first.version == DEFAULT_VERSION
    assert first.sections == sections_json(DEFAULT_TEXTS[DEFAULT_VERSION])
    assert first.published_at >= before


def test_a_practice_without_any_version_answers_not_found(
    world: Practice5, browser_for: BrowserFor
) -> None:
    AgreementVersion.objects.filter(practice=world.practice).delete()

    reply = browser_for(world.client).get(AGREEMENT)

    assert (reply.status, reply.code) == (404, "not_found")
