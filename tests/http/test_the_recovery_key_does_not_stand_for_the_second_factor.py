"""For an account with a second factor the recovery key stands for the password, never for
the second factor: ``recover/finish`` answers ``second_factor_required`` and stores nothing;
the new password is stored only when the second step passes, and an abandoned or failed
second step leaves the account as it was."""

from __future__ import annotations

import pytest

from accounts.factors import pending
from tests.http.conftest import BrowserFor
from tests.http.recovery import NEW_PASSWORD, give_recovery_key, recover
from tests.http.test_the_recovery_key_replaces_a_forgotten_password import (
    sign_in_with_password,
    stored,
)
from tests.http.two_step import second_step
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_theo_recovers_only_with_his_authenticator_code(
    world: Practice5, browser_for: BrowserFor
) -> None:
    theo = world.therapist
    key = give_recovery_key(theo)
    before = stored(theo.id)
    laptop = browser_for(theo)
    new_browser = browser_for(None)

    reply, _ = recover(new_browser, theo.user.email, key)

    assert reply.status == 200, reply.content
    assert reply.json()["second_factor_required"] is True
    assert "totp" in reply.json()["methods"]
    assert "user" not in reply.json()
    assert stored(theo.id) == before
    assert new_browser.signed_in_user() is None
    assert laptop.signed_in_user() == theo.id

    finished = second_step(new_browser, totp=theo.totp_code())

    assert finished.status == 200, finished.content
    assert finished.json()["user"]["id"] == theo.id
    after = stored(theo.id)
    assert after["password"] != before["password"]
    assert after["public_identity"] == before["public_identity"]
    assert new_browser.signed_in_user() == theo.id
    assert laptop.signed_in_user() is None
    answer = sign_in_with_password(browser_for(None), theo.user.email, NEW_PASSWORD)
    assert answer.get("second_factor_required") is True


def test_wrong_codes_end_the_wait_and_store_nothing(
    world: Practice5, browser_for: BrowserFor
) -> None:
    theo = world.therapist
    key = give_recovery_key(theo)
    before = stored(theo.id)
    new_browser = browser_for(None)
    reply, _ = recover(new_browser, theo.user.email, key)
    assert reply.json()["second_factor_required"] is True

    for _ in range(pending.MAX_TRIES):
        wrong = second_step(new_browser, totp="000000")
        assert wrong.status == 403, wrong.content
        assert wrong.code == "second_factor_invalid"
    late = second_step(new_browser, totp=theo.totp_code())

    assert late.code == "second_factor_expired"
    assert stored(theo.id) == before
    assert new_browser.signed_in_user() is None


def test_a_password_change_meanwhile_ends_the_waiting_recovery(
    world: Practice5, browser_for: BrowserFor
) -> None:
    """The wait is bound to the account's secret at the time: if the owner changed it (or
    another recovery landed) the older recovery is not stored over it."""
    theo = world.therapist
    key = give_recovery_key(theo)
    new_browser = browser_for(None)
    reply, _ = recover(new_browser, theo.user.email, key)
    assert reply.json()["second_factor_required"] is True
    theo.user.refresh_from_db()
    theo.user.set_password("changed elsewhere meanwhile")
    theo.user.save(update_fields=["password"])
    changed = stored(theo.id)

    late = second_step(new_browser, totp=theo.totp_code())

    assert late.code == "second_factor_expired"
    assert stored(theo.id) == changed


def test_clara_without_a_second_factor_is_signed_in_at_once(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = world.client
    key = give_recovery_key(clara)
    new_browser = browser_for(None)

    reply, _ = recover(new_browser, clara.user.email, key)

    assert reply.status == 200
    assert reply.json()["user"]["id"] == clara.id
