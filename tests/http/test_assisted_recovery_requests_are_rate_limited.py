"""Assisted recovery requests are counted per address (``CONFIDE_RECOVERY_ATTEMPTS``) and
per email (``CONFIDE_ASSISTED_RECOVERY_EMAIL_ATTEMPTS`` a day): each one replaces the
client's pending request and tells their therapists, so a stranger who knows an email may
do so only a few times. Emails with and without an account count alike; a refused request
says how long to wait and keeps nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import AssistedRecovery
from tests.http.assisted import REQUEST, new_material, request_body
from tests.http.conftest import Browser
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


@override_settings(CONFIDE_ASSISTED_RECOVERY_EMAIL_ATTEMPTS=2)
def test_an_email_is_refused_after_its_requests_from_any_address(world: Practice5) -> None:
    material = new_material()
    for email in (world.client.user.email, "nobody@practice.invalid"):
        for number in range(2):
            browser = Browser(REMOTE_ADDR=f"198.51.100.{number + 1}")
            assert browser.post(REQUEST, request_body(email, material)).status == 200
        kept = AssistedRecovery.objects.count()

        refused = Browser(REMOTE_ADDR="198.51.100.9").post(
            REQUEST, request_body(email.upper(), material)
        )

        assert (refused.status, refused.code) == (429, "rate_limited")
        assert refused.json()["error"]["retry_after_s"] > 0
        assert AssistedRecovery.objects.count() == kept


@override_settings(CONFIDE_RECOVERY_ATTEMPTS=2)
def test_an_address_is_refused_after_its_requests_whatever_the_email(world: Practice5) -> None:
    material = new_material()
    browser = Browser(REMOTE_ADDR="198.51.100.1")
    for number in range(2):
        body = request_body(f"n{number}@practice.invalid", material)
        assert browser.post(REQUEST, body).status == 200

    refused = browser.post(REQUEST, request_body(world.client.user.email, material))

    assert (refused.status, refused.code) == (429, "rate_limited")
    assert not AssistedRecovery.objects.exists()
    elsewhere = Browser(REMOTE_ADDR="198.51.100.2")
    assert elsewhere.post(REQUEST, request_body(world.client.user.email, material)).status == 200
