"""Recovery requests are counted per address and per email (``CONFIDE_RECOVERY_*``): each
``begin`` stores a challenge, so a stranger cannot make the server keep many; a refused
one says how long to wait and stores nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.http.conftest import Browser
from tests.http.recovery import BEGIN, FINISH, begin, finish_body, give_recovery_key, material_for
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


@override_settings(CONFIDE_RECOVERY_ATTEMPTS=3)
def test_an_address_is_refused_after_its_attempts_whatever_the_email(world: Practice5) -> None:
    browser = Browser(REMOTE_ADDR="198.51.100.1")
    for number in range(3):
        assert browser.post(BEGIN, {"email": f"n{number}@practice.invalid"}).status == 200

    refused = browser.post(BEGIN, {"email": world.client.user.email})

    assert refused.status == 429
    assert refused.code == "rate_limited"
    assert refused.json()["error"]["retry_after_s"] > 0
    assert Browser(REMOTE_ADDR="198.51.100.2").post(BEGIN, {"email": "x@y.invalid"}).status == 200


@override_settings(CONFIDE_RECOVERY_EMAIL_ATTEMPTS=2, CONFIDE_RECOVERY_ATTEMPTS=1)
def test_an_email_is_refused_after_its_attempts_from_any_address(world: Practice5) -> None:
    email = world.client.user.email
    for number in range(2):
        assert (
            Browser(REMOTE_ADDR=f"198.51.100.{number + 1}").post(BEGIN, {"email": email}).status
            == 200
        )

    refused = Browser(REMOTE_ADDR="198.51.100.9").post(BEGIN, {"email": email.upper()})

    assert refused.status == 429
    assert refused.code == "rate_limited"
    # The refused request did not use up the address's own attempts.
    assert Browser(REMOTE_ADDR="198.51.100.9").post(BEGIN, {"email": "x@y.invalid"}).status == 200


@override_settings(CONFIDE_RECOVERY_ATTEMPTS=2)
def test_failed_finishes_are_counted_and_a_successful_one_is_not(world: Practice5) -> None:
    key = give_recovery_key(world.client)
    email = world.client.user.email
    helper = Browser(REMOTE_ADDR="203.0.113.7")
    browser = Browser(REMOTE_ADDR="198.51.100.1")
    material = material_for(begin(helper, email), key, email)
    # A success does not count ...
    assert browser.post(FINISH, finish_body(material)).status == 200
    # ... two failures do, and the third attempt is refused before it is looked at.
    for _ in range(2):
        assert browser.post(FINISH, finish_body(material)).status == 410
    fresh = material_for(begin(helper, email), key, email)

    refused = browser.post(FINISH, finish_body(fresh))

    assert refused.status == 429
    assert refused.code == "rate_limited"
    assert Browser(REMOTE_ADDR="198.51.100.2").post(FINISH, finish_body(fresh)).status == 200
