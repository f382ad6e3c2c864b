"""Ten recovery codes come with an authenticator app, are shown once, are kept only
hashed, and each signs in once in place of the app."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from accounts.models import RecoveryCode
from tests.http.conftest import BrowserFor
from tests.http.two_step import enrol_app, second_step, waiting_for_second_factor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_confirming_an_app_shows_ten_different_codes(
    world: Practice5, browser_for: BrowserFor
) -> None:
    _, codes = enrol_app(browser_for(world.client))

    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}", c) for c in codes)


def test_the_database_keeps_no_code_in_the_clear(world: Practice5, browser_for: BrowserFor) -> None:
    _, codes = enrol_app(browser_for(world.client))

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_recoverycode")
        rows = repr(cursor.fetchall()).encode()

    for code in codes:
        assert code.encode() not in rows
        assert code.replace("-", "").encode() not in rows
    assert RecoveryCode.objects.filter(user=world.client.user).count() == 10


def test_a_recovery_code_signs_in_once(world: Practice5, browser_for: BrowserFor) -> None:
    _, codes = enrol_app(browser_for(world.client))

    first = second_step(waiting_for_second_factor(world.client), recovery_code=codes[0])
    again = second_step(waiting_for_second_factor(world.client), recovery_code=codes[0])

    assert first.status == 200
    assert (again.status, again.code) == (403, "second_factor_invalid")
    assert "already used" in again.json()["error"]["message"]
    left = browser_for(world.client).get("/api/2fa").json()["recovery_codes_left"]
    assert left == 9


def test_a_code_is_taken_in_any_case_and_without_dashes(
    world: Practice5, browser_for: BrowserFor
) -> None:
    _, codes = enrol_app(browser_for(world.client))

    reply = second_step(
        waiting_for_second_factor(world.client), recovery_code=codes[3].upper().replace("-", "")
    )

    assert reply.status == 200


def test_a_made_up_code_is_refused(world: Practice5) -> None:
    browser = waiting_for_second_factor(world.therapist)

    reply = second_step(browser, recovery_code="abcd-efgh-jkmn-pqrs")

    assert (reply.status, reply.code) == (403, "second_factor_invalid")
    assert browser.signed_in_user() is None


def test_a_new_app_replaces_the_codes(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)
    _, old_codes = enrol_app(browser)
    _, new_codes = enrol_app(browser)

    old = second_step(waiting_for_second_factor(world.client), recovery_code=old_codes[0])
    new = second_step(waiting_for_second_factor(world.client), recovery_code=new_codes[0])

    assert (old.status, new.status) == (403, 200)
