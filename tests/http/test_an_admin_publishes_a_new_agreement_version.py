"""An admin publishes a new version of the messaging agreement (``/api/admin/agreement``):
every client accepts it again before their next message, the admin sees who accepted
which version when, and two admins editing at once cannot overwrite each other."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.agreement import DEFAULT_VERSION, current_agreement, has_accepted_current
from accounts.models import AgreementVersion, Role
from tests.http.conftest import Browser
from tests.personas import Person, Practice5, make_person, make_practice

pytestmark = pytest.mark.django_db

NEW_TEXT = [
    {
        "heading": "When to expect a reply",
        "paragraphs": ["Your therapist replies within one business day."],
    },
    {"heading": "Not for emergencies", "paragraphs": ["Call or text 988. In an emergency, 911."]},
]


def publish(admin: Browser, based_on: str, sections: list[dict[str, Any]]) -> Any:
    return admin.post("/api/admin/agreement", {"based_on": based_on, "sections": sections})


def test_a_new_version_is_asked_of_every_client_and_the_admin_sees_who_accepted(
    world: Practice5,
) -> None:
    admin = Browser().sign_in_as(world.admin)
    before = admin.get("/api/admin/agreement").json()
    assert before["current"]["version"] == DEFAULT_VERSION
    assert [(c["display_name"], c["version"]) for c in before["clients"]] == [
        ("Clara", DEFAULT_VERSION),
        ("Oscar", DEFAULT_VERSION),
    ]
    reply = publish(admin, DEFAULT_VERSION, NEW_TEXT)
    assert reply.status == 200, reply.content
    today = timezone.localdate().isoformat()
    assert reply.json()["current"]["version"] == today
    assert reply.json()["current"]["sections"] == NEW_TEXT
    assert not has_accepted_current(world.client.id, world.practice.pk)

    clara = Browser().sign_in_as(world.client)
    shown = clara.get("/api/agreement").json()
    assert (shown["agreement"]["version"], shown["accepted"]) == (today, None)
    assert clara.post("/api/agreement", {"version": today}).status == 200

    after = admin.get("/api/admin/agreement").json()
    assert [(v["version"], v["acceptances"]) for v in after["versions"]] == [
        (today, 1),
        (DEFAULT_VERSION, 2),
    ]
    accepted = {c["display_name"]: (c["version"], c["accepted_at"]) for c in after["clients"]}
    assert accepted["Clara"][0] == today and accepted["Clara"][1] is not None
    assert accepted["Oscar"][0] == DEFAULT_VERSION


def test_a_second_version_on_one_day_gets_a_number(world: Practice5) -> None:
    admin = Browser().sign_in_as(world.admin)
    first = publish(admin, DEFAULT_VERSION, NEW_TEXT).json()["current"]["version"]
    changed = [{**NEW_TEXT[0], "paragraphs": ["Within two business days."]}]
    second = publish(admin, first, changed).json()["current"]["version"]
    assert second == f"{first}.2"


def test_two_admins_editing_at_once_publish_one_version_and_the_other_is_told(
    world: Practice5,
) -> None:
    ada = Browser().sign_in_as(world.admin)
    both_saw = ada.get("/api/admin/agreement").json()["current"]["version"]
    assert publish(ada, both_saw, NEW_TEXT).status == 200
    late = publish(ada, both_saw, [{"heading": "Other", "paragraphs": ["Other text."]}])
    assert (late.status, late.code) == (409, "agreement_changed")
    assert "nothing was published" in late.json()["error"]["message"]
    assert AgreementVersion.objects.filter(practice=world.practice).count() == 2


def test_the_same_text_again_publishes_nothing(world: Practice5) -> None:
    admin = Browser().sign_in_as(world.admin)
    current = admin.get("/api/admin/agreement").json()["current"]
    reply = publish(admin, current["version"], current["sections"])
    assert (reply.status, reply.code) == (400, "bad_request")
    assert AgreementVersion.objects.filter(practice=world.practice).count() == 1


@pytest.mark.parametrize(
    "sections",
    [
        [],
        [{"heading": "", "paragraphs": ["x"]}],
        [{"heading": "A", "paragraphs": []}],
        [{"heading": "A", "paragraphs": ["line\x00break"]}],
        [{"heading": "A", "paragraphs": ["x" * 4001]}],
        [{"heading": "A", "paragraphs": ["x"], "html": "<b>"}],
    ],
)
def test_a_malformed_text_is_refused_and_publishes_nothing(
    world: Practice5, sections: list[dict[str, Any]]
) -> None:
    reply = publish(Browser().sign_in_as(world.admin), DEFAULT_VERSION, sections)
    assert (reply.status, reply.code) == (400, "bad_request")
    assert AgreementVersion.objects.filter(practice=world.practice).count() == 1
    assert has_accepted_current(world.client.id, world.practice.pk)


@pytest.mark.django_db(transaction=True)
def test_two_admins_publishing_at_the_same_moment_get_one_version_and_one_refusal(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL, with both requests reading the current version at the same moment
    (each waits a little after reading it): the practice's row lock lets one publish and
    tells the other."""
    world = make_practice()
    abe = make_person(world.practice, Role.ADMIN, "Abe")

    def slow_current(practice_id: int) -> AgreementVersion | None:
        found = current_agreement(practice_id)
        time.sleep(0.3)
        return found

    monkeypatch.setattr("accounts.console.current_agreement", slow_current)
    start = threading.Barrier(2)
    answers: list[str] = []

    def publish_as(person: Person, heading: str) -> None:
        browser = Browser().sign_in_as(person)
        token = browser.csrf_token()
        start.wait()
        reply = browser.post_with_token(
            "/api/admin/agreement",
            {"based_on": DEFAULT_VERSION, "sections": [{"heading": heading, "paragraphs": ["x"]}]},
            csrf_token=token,
        )
        answers.append("published" if reply.status == 200 else reply.code)
        connection.close()

    threads = [
        threading.Thread(target=publish_as, args=(world.admin, "Ada's")),
        threading.Thread(target=publish_as, args=(abe, "Abe's")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == ["agreement_changed", "published"]
    assert AgreementVersion.objects.filter(practice=world.practice).count() == 2
