"""Setting up a second factor halfway leaves no factor: a begun authenticator app counts
for nothing until a code from it confirms it, a new beginning replaces it, and a passkey
request answered twice, late or never keeps nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Passkey, TotpDevice
from tests.authenticator import next_code
from tests.http.conftest import BrowserFor
from tests.http.two_step import code_at_offset, enrol_passkey, first_step
from tests.passkey import SoftAuthenticator
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_a_begun_app_is_no_factor(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)

    assert browser.post("/api/2fa/totp/begin").status == 200
    listed = browser.get("/api/2fa").json()
    signing_in = first_step(browser_for(None), world.client)

    assert listed["totp"] is None
    assert listed["recovery_codes_left"] == 0
    assert "user" in signing_in.json(), "one step: no factor yet"


def test_a_second_beginning_replaces_the_first(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)
    first = browser.post("/api/2fa/totp/begin").json()["secret"]
    second = browser.post("/api/2fa/totp/begin").json()["secret"]

    stale = browser.post("/api/2fa/totp/confirm", {"code": next_code(first)})
    fresh = browser.post("/api/2fa/totp/confirm", {"code": next_code(second)})

    assert (stale.status, stale.code) == (403, "second_factor_invalid")
    assert fresh.status == 200
    assert TotpDevice.objects.filter(user=world.client.user).count() == 1


def test_a_wrong_confirming_code_confirms_nothing(
    world: Practice5, browser_for: BrowserFor
) -> None:
    browser = browser_for(world.client)
    secret = browser.post("/api/2fa/totp/begin").json()["secret"]

    reply = browser.post("/api/2fa/totp/confirm", {"code": code_at_offset(secret, -5)})

    assert (reply.status, reply.code) == (403, "second_factor_invalid")
    assert browser.get("/api/2fa").json()["totp"] is None


def test_a_beginning_left_too_long_must_be_made_again(
    world: Practice5, browser_for: BrowserFor
) -> None:
    browser = browser_for(world.client)
    secret = browser.post("/api/2fa/totp/begin").json()["secret"]
    TotpDevice.objects.filter(user=world.client.user).update(
        created_at=timezone.now() - timedelta(hours=1)
    )

    reply = browser.post("/api/2fa/totp/confirm", {"code": next_code(secret)})

    assert (reply.status, reply.code) == (410, "second_factor_expired")
    assert "begin the set-up again" in reply.json()["error"]["message"]


def test_a_new_app_begun_keeps_the_confirmed_one_until_it_is_confirmed(
    world: Practice5, browser_for: BrowserFor
) -> None:
    theo = world.therapist
    browser = browser_for(theo)

    browser.post("/api/2fa/totp/begin")

    assert browser.get("/api/2fa").json()["totp"] is not None
    assert browser.get("/api/conversations").status == 200


def test_a_passkey_request_never_answered_keeps_nothing(
    world: Practice5, browser_for: BrowserFor
) -> None:
    browser = browser_for(world.client)

    browser.post("/api/2fa/webauthn/register/begin")

    assert browser.get("/api/2fa").json()["passkeys"] == []


def test_a_passkey_answer_without_a_request_is_refused(
    world: Practice5, browser_for: BrowserFor
) -> None:
    credential = SoftAuthenticator().create({"challenge": "AAAA"})

    reply = browser_for(world.client).post(
        "/api/2fa/webauthn/register/finish", {"credential": credential, "name": "Laptop"}
    )

    assert (reply.status, reply.code) == (410, "second_factor_expired")
    assert not Passkey.objects.exists()


def test_a_passkey_answered_twice_is_kept_once(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)
    begun = browser.post("/api/2fa/webauthn/register/begin").json()["options"]
    credential = SoftAuthenticator().create(begun)
    body = {"credential": credential, "name": "Laptop"}

    first = browser.post("/api/2fa/webauthn/register/finish", body)
    again = browser.post("/api/2fa/webauthn/register/finish", body)

    assert first.status == 200
    assert (again.status, again.code) == (410, "second_factor_expired")
    assert Passkey.objects.filter(user=world.client.user).count() == 1


def test_a_passkey_for_another_origin_is_refused(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)
    begun = browser.post("/api/2fa/webauthn/register/begin").json()["options"]
    credential = SoftAuthenticator().create(begun, origin="https://elsewhere.example")

    reply = browser.post(
        "/api/2fa/webauthn/register/finish", {"credential": credential, "name": "Laptop"}
    )

    assert (reply.status, reply.code) == (403, "second_factor_invalid")
    assert not Passkey.objects.exists()


def test_the_first_passkey_brings_recovery_codes(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)

    _, first = enrol_passkey(browser, "Laptop")
    _, second = enrol_passkey(browser, "Phone")

    assert len(first.json()["recovery_codes"]) == 10
    assert second.json()["recovery_codes"] is None
    assert [p["name"] for p in browser.get("/api/2fa").json()["passkeys"]] == ["Laptop", "Phone"]
