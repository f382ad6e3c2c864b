"""An account with a second factor signs in in two steps: the right secret alone signs
nobody in and sends no key material; the second factor then does both."""

from __future__ import annotations

import pytest

import crypto
from tests.http.conftest import Browser
from tests.http.signing_in import known_browser_cookies
from tests.http.two_step import (
    code_at_offset,
    first_step,
    second_step,
    waiting_for_second_factor,
)
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_the_right_secret_alone_answers_second_factor_required_without_the_bundle(
    world: Practice5,
) -> None:
    browser = Browser()

    reply = first_step(browser, world.therapist)

    assert reply.status == 200
    assert reply.json() == {
        "second_factor_required": True,
        "methods": ["totp", "recovery_code"],
        "expires_in_s": 300,
    }
    bundle = crypto.b64encode(bytes(world.therapist.user.key_bundle))
    assert bundle.encode() not in reply.content
    assert known_browser_cookies(browser) == {}


def test_a_half_signed_in_session_is_signed_out_everywhere(world: Practice5) -> None:
    browser = waiting_for_second_factor(world.therapist)

    for path in ("/api/me", "/api/conversations", "/api/invitations", "/api/2fa"):
        reply = browser.get(path)
        assert (reply.status, reply.code) == (401, "unauthenticated"), path
    assert browser.post("/api/invitations", {"client_name": "Nina"}).status == 401


def test_the_second_factor_signs_in_and_sends_the_bundle(world: Practice5) -> None:
    theo = world.therapist
    browser = waiting_for_second_factor(theo)

    reply = second_step(browser, totp=theo.totp_code())

    assert reply.status == 200, reply.content
    user = reply.json()["user"]
    assert user["id"] == theo.id
    assert user["key_bundle"] == crypto.b64encode(bytes(theo.user.key_bundle))
    assert user["second_factor_enrolment_required"] is False
    assert browser.signed_in_user() == theo.id
    assert len(known_browser_cookies(browser)) == 1


def test_a_client_without_a_second_factor_signs_in_in_one_step(world: Practice5) -> None:
    browser = Browser()

    reply = first_step(browser, world.client)

    assert reply.status == 200
    assert reply.json()["user"]["key_bundle"] == crypto.b64encode(
        bytes(world.client.user.key_bundle)
    )
    assert browser.signed_in_user() == world.client.id


def test_a_wrong_secret_never_reaches_the_second_step(world: Practice5) -> None:
    browser = Browser()
    wrong = crypto.b64encode(bytes(32))

    reply = browser.post(
        "/api/auth/signin", {"email": world.therapist.user.email, "auth_secret": wrong}
    )
    code = second_step(browser, totp=world.therapist.totp_code())

    assert (reply.status, reply.code) == (401, "unauthenticated")
    assert (code.status, code.code) == (410, "second_factor_expired")
    assert browser.signed_in_user() is None


def test_the_right_secret_for_someone_else_signs_the_earlier_account_out(
    world: Practice5,
) -> None:
    browser = Browser().sign_in_as(world.client)

    first_step(browser, world.therapist)

    assert browser.signed_in_user() is None
    assert second_step(browser, totp=world.therapist.totp_code()).status == 200
    assert browser.signed_in_user() == world.therapist.id


def test_signing_out_ends_a_sign_in_waiting_for_its_second_factor(world: Practice5) -> None:
    browser = waiting_for_second_factor(world.therapist)

    browser.post("/api/auth/signout")
    reply = second_step(browser, totp=world.therapist.totp_code())

    assert (reply.status, reply.code) == (410, "second_factor_expired")


def test_no_answer_before_the_second_factor_carries_the_bundle(world: Practice5) -> None:
    theo = world.therapist
    bundle = crypto.b64encode(bytes(theo.user.key_bundle)).encode()
    assert theo.totp_secret is not None
    not_now = code_at_offset(theo.totp_secret, -5)
    browser = Browser()

    answers = [
        first_step(browser, theo),
        second_step(browser, totp=not_now),
        second_step(browser, recovery_code="abcd-efgh-jkmn-pqrs"),
        browser.post("/api/auth/signin/passkey-options"),
        browser.get("/api/me"),
    ]

    assert [a.status for a in answers] == [200, 403, 403, 404, 401]
    assert all(bundle not in answer.content for answer in answers)
