"""A passkey as the second factor: its answer to a fresh challenge signs in; the same
answer again, an answer to no challenge, or one from another passkey is refused."""

from __future__ import annotations

import pytest

from accounts.models import Passkey
from tests.http.conftest import Browser, BrowserFor
from tests.http.two_step import (
    PASSKEY_OPTIONS,
    enrol_passkey,
    first_step,
    second_step,
    waiting_for_second_factor,
)
from tests.passkey import SoftAuthenticator
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


@pytest.fixture
def clara_passkey(world: Practice5, browser_for: BrowserFor) -> SoftAuthenticator:
    authenticator, reply = enrol_passkey(browser_for(world.client))
    assert reply.status == 200, reply.content
    return authenticator


def _options(browser: Browser) -> dict[str, object]:
    reply = browser.post(PASSKEY_OPTIONS)
    assert reply.status == 200, reply.content
    options: dict[str, object] = reply.json()["options"]
    return options


def test_the_first_step_offers_the_passkey(
    world: Practice5, clara_passkey: SoftAuthenticator
) -> None:
    reply = first_step(Browser(), world.client)

    assert reply.json()["methods"] == ["webauthn", "recovery_code"]


def test_a_passkey_answer_signs_in(world: Practice5, clara_passkey: SoftAuthenticator) -> None:
    browser = waiting_for_second_factor(world.client)
    options = _options(browser)

    reply = second_step(browser, webauthn=clara_passkey.get(options))

    assert reply.status == 200, reply.content
    assert reply.json()["user"]["id"] == world.client.id
    passkey = Passkey.objects.get(user=world.client.user)
    assert passkey.sign_count == 1
    assert passkey.last_used_at is not None


def test_a_replayed_assertion_is_refused(
    world: Practice5, clara_passkey: SoftAuthenticator
) -> None:
    seen = waiting_for_second_factor(world.client)
    assertion = clara_passkey.get(_options(seen))
    assert second_step(seen, webauthn=assertion).status == 200

    # Someone who saw that answer replays it: in a sign-in of their own, where a new
    # challenge waits, and in the same sign-in before its challenge is asked again.
    thief = waiting_for_second_factor(world.client)
    _options(thief)
    with_new_challenge = second_step(thief, webauthn=assertion)
    without_challenge = second_step(thief, webauthn=assertion)

    assert (with_new_challenge.status, with_new_challenge.code) == (403, "second_factor_invalid")
    assert (without_challenge.status, without_challenge.code) == (403, "second_factor_invalid")
    assert thief.signed_in_user() is None


def test_an_answer_is_taken_once_even_in_its_own_sign_in(
    world: Practice5, clara_passkey: SoftAuthenticator
) -> None:
    browser = waiting_for_second_factor(world.client)
    options = _options(browser)
    assertion = clara_passkey.get(options)
    broken = {**assertion, "response": {**assertion["response"], "signature": "AAAA"}}

    refused = second_step(browser, webauthn=broken)
    replayed = second_step(browser, webauthn=assertion)

    assert refused.code == "second_factor_invalid"
    assert (replayed.status, replayed.code) == (403, "second_factor_invalid")
    assert "already used" in replayed.json()["error"]["message"]


def test_another_passkey_is_refused(world: Practice5, clara_passkey: SoftAuthenticator) -> None:
    browser = waiting_for_second_factor(world.client)

    reply = second_step(browser, webauthn=SoftAuthenticator().get(_options(browser)))

    assert (reply.status, reply.code) == (403, "second_factor_invalid")


def test_a_counter_that_went_back_is_refused(
    world: Practice5, clara_passkey: SoftAuthenticator
) -> None:
    """A cloned authenticator repeats its counter."""
    first = waiting_for_second_factor(world.client)
    assert second_step(first, webauthn=clara_passkey.get(_options(first))).status == 200
    clara_passkey.sign_count = 0

    browser = waiting_for_second_factor(world.client)
    reply = second_step(browser, webauthn=clara_passkey.get(_options(browser)))

    assert (reply.status, reply.code) == (403, "second_factor_invalid")


def test_passkey_options_need_a_waiting_sign_in(world: Practice5) -> None:
    reply = Browser().post(PASSKEY_OPTIONS)

    assert (reply.status, reply.code) == (410, "second_factor_expired")


def test_an_account_without_a_passkey_gets_no_passkey_options(world: Practice5) -> None:
    reply = waiting_for_second_factor(world.therapist).post(PASSKEY_OPTIONS)

    assert (reply.status, reply.code) == (404, "not_found")
