"""A second factor is removed only with a fresh code from the app or the password; a
therapist or admin keeps at least one; a client's last factor takes the recovery codes
with it; wrong proofs are limited."""

from __future__ import annotations

import pytest

from accounts.models import RecoveryCode
from tests.authenticator import next_code
from tests.http.conftest import BrowserFor
from tests.http.two_step import code_at_offset, enrol_app, enrol_passkey, first_step
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

REMOVE = "/api/2fa/remove"


def test_a_client_removes_their_app_with_a_code(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)
    secret, _ = enrol_app(browser)

    reply = browser.post(REMOVE, {"factor": "totp", "totp": next_code(secret)})

    assert reply.status == 200, reply.content
    assert reply.json()["totp"] is None
    assert not RecoveryCode.objects.filter(user=world.client.user).exists()
    assert "user" in first_step(browser_for(None), world.client).json(), "one step again"


def test_a_client_removes_their_app_with_the_password(
    world: Practice5, browser_for: BrowserFor
) -> None:
    browser = browser_for(world.client)
    enrol_app(browser)

    reply = browser.post(REMOVE, {"factor": "totp", "auth_secret": world.client.auth_secret})

    assert reply.status == 200
    assert reply.json()["totp"] is None


def test_a_wrong_proof_removes_nothing(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)
    secret, _ = enrol_app(browser)

    by_code = browser.post(REMOVE, {"factor": "totp", "totp": code_at_offset(secret, -5)})
    by_password = browser.post(
        REMOVE, {"factor": "totp", "auth_secret": world.therapist.auth_secret}
    )

    assert (by_code.status, by_code.code) == (403, "second_factor_invalid")
    assert (by_password.status, by_password.code) == (403, "second_factor_invalid")
    assert browser.get("/api/2fa").json()["totp"] is not None


def test_wrong_proofs_are_limited(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.client)
    enrol_app(browser)
    wrong = {"factor": "totp", "auth_secret": world.therapist.auth_secret}

    statuses = [browser.post(REMOVE, wrong).status for _ in range(6)]
    right = browser.post(REMOVE, {"factor": "totp", "auth_secret": world.client.auth_secret})

    assert statuses == [403] * 5 + [429]
    assert (right.status, right.code) == (429, "rate_limited")


def test_staff_keep_their_last_factor(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.therapist)

    reply = browser.post(REMOVE, {"factor": "totp", "totp": world.therapist.totp_code()})

    assert (reply.status, reply.code) == (403, "forbidden")
    assert "at least one second factor" in reply.json()["error"]["message"]
    assert browser.get("/api/2fa").json()["totp"] is not None


def test_staff_with_a_passkey_may_remove_their_app(
    world: Practice5, browser_for: BrowserFor
) -> None:
    browser = browser_for(world.therapist)
    enrol_passkey(browser)

    reply = browser.post(REMOVE, {"factor": "totp", "totp": world.therapist.totp_code()})

    assert reply.status == 200, reply.content
    assert reply.json()["totp"] is None
    assert len(reply.json()["passkeys"]) == 1
    assert browser.get("/api/conversations").status == 200


def test_a_passkey_is_removed_by_its_id(world: Practice5, browser_for: BrowserFor) -> None:
    browser = browser_for(world.therapist)
    _, added = enrol_passkey(browser)
    passkey_id = added.json()["passkey"]["id"]

    reply = browser.post(
        REMOVE,
        {"factor": "passkey", "passkey_id": passkey_id, "totp": world.therapist.totp_code()},
    )
    again = browser.post(
        REMOVE,
        {"factor": "passkey", "passkey_id": passkey_id, "totp": world.therapist.totp_code()},
    )

    assert reply.status == 200
    assert reply.json()["passkeys"] == []
    assert (again.status, again.code) == (404, "not_found")


def test_someone_elses_passkey_is_not_found(world: Practice5, browser_for: BrowserFor) -> None:
    _, added = enrol_passkey(browser_for(world.other_therapist))

    reply = browser_for(world.therapist).post(
        REMOVE,
        {
            "factor": "passkey",
            "passkey_id": added.json()["passkey"]["id"],
            "totp": world.therapist.totp_code(),
        },
    )

    assert (reply.status, reply.code) == (404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"factor": "totp"},
        {"factor": "totp", "totp": "123456", "auth_secret": "A" * 43},
        {"factor": "passkey", "totp": "123456"},
        {"factor": "totp", "passkey_id": 1, "totp": "123456"},
    ],
    ids=["no proof", "two proofs", "a passkey without its id", "an id for the app"],
)
def test_a_malformed_removal_is_a_bad_request(
    world: Practice5, browser_for: BrowserFor, body: dict[str, object]
) -> None:
    reply = browser_for(world.client).post(REMOVE, body)

    assert (reply.status, reply.code) == (400, "bad_request")
