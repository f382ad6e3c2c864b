"""Codes of an authenticator app: a wrong, reused or expired one is refused with a message
that says which and what to do, leaves the sign-in waiting (up to three tries), and counts
as a failed sign-in under the sign-in limits."""

from __future__ import annotations

import time
from unittest import mock

import pytest

from accounts.factors import pending, recovery_codes
from tests.http.conftest import Browser
from tests.http.signing_in import CAFE, at
from tests.http.two_step import (
    code_at_offset,
    first_step,
    second_step,
    waiting_for_second_factor,
)
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_wrong_code_is_refused_and_the_sign_in_still_waits(world: Practice5) -> None:
    theo = world.therapist
    browser = waiting_for_second_factor(theo)
    assert theo.totp_secret is not None

    wrong = second_step(browser, totp=_wrong(code_at_offset(theo.totp_secret, 0)))
    right = second_step(browser, totp=theo.totp_code())

    assert (wrong.status, wrong.code) == (403, "second_factor_invalid")
    assert "wrong" in wrong.json()["error"]["message"]
    assert right.status == 200
    assert browser.signed_in_user() == theo.id


def test_a_code_is_taken_once(world: Practice5) -> None:
    theo = world.therapist
    code = theo.totp_code()
    first, second = waiting_for_second_factor(theo), waiting_for_second_factor(theo)

    taken = second_step(first, totp=code)
    again = second_step(second, totp=code)

    assert taken.status == 200
    assert (again.status, again.code) == (403, "second_factor_invalid")
    assert "already used" in again.json()["error"]["message"]
    assert second.signed_in_user() is None


def test_a_code_older_than_the_last_one_taken_is_refused(world: Practice5) -> None:
    theo = world.therapist
    assert theo.totp_secret is not None
    later, earlier = code_at_offset(theo.totp_secret, 1), code_at_offset(theo.totp_secret, 0)

    assert second_step(waiting_for_second_factor(theo), totp=later).status == 200
    reply = second_step(waiting_for_second_factor(theo), totp=earlier)

    assert (reply.status, reply.code) == (403, "second_factor_invalid")


def test_an_expired_code_is_refused_as_expired(world: Practice5) -> None:
    theo = world.therapist
    assert theo.totp_secret is not None
    browser = waiting_for_second_factor(theo)

    reply = second_step(browser, totp=code_at_offset(theo.totp_secret, -3))

    assert (reply.status, reply.code) == (403, "second_factor_invalid")
    assert "expired" in reply.json()["error"]["message"]
    assert browser.signed_in_user() is None


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_the_codes_of_the_steps_beside_now_are_taken(world: Practice5, steps: int) -> None:
    theo = world.therapist
    assert theo.totp_secret is not None

    reply = second_step(
        waiting_for_second_factor(theo), totp=code_at_offset(theo.totp_secret, steps)
    )

    assert reply.status == 200


def test_a_code_two_steps_ahead_is_refused(world: Practice5) -> None:
    theo = world.therapist
    assert theo.totp_secret is not None

    reply = second_step(waiting_for_second_factor(theo), totp=code_at_offset(theo.totp_secret, 2))

    assert (reply.status, reply.code) == (403, "second_factor_invalid")


def test_three_wrong_codes_end_the_wait(world: Practice5) -> None:
    theo = world.therapist
    browser = waiting_for_second_factor(theo)
    assert theo.totp_secret is not None
    wrong = _wrong(code_at_offset(theo.totp_secret, 0))

    replies = [second_step(browser, totp=wrong) for _ in range(pending.MAX_TRIES)]
    after = second_step(browser, totp=theo.totp_code())

    assert [r.status for r in replies] == [403] * pending.MAX_TRIES
    assert "sign in again" in replies[-1].json()["error"]["message"]
    assert (after.status, after.code) == (410, "second_factor_expired")


def test_the_wait_ends_after_five_minutes(world: Practice5) -> None:
    theo = world.therapist
    browser = waiting_for_second_factor(theo)
    later = time.time() + pending.PENDING_SECONDS + 1

    with mock.patch("accounts.factors.pending.time.time", return_value=later):
        reply = second_step(browser, totp=theo.totp_code())

    assert (reply.status, reply.code) == (410, "second_factor_expired")
    assert browser.signed_in_user() is None


def test_a_new_password_ends_the_wait(world: Practice5) -> None:
    theo = world.therapist
    browser = waiting_for_second_factor(theo)
    theo.user.set_password("a new authentication secret")
    theo.user.save()

    reply = second_step(browser, totp=theo.totp_code())

    assert (reply.status, reply.code) == (410, "second_factor_expired")


def test_wrong_codes_count_as_failed_sign_ins(world: Practice5) -> None:
    """Somewhere the account is not known, five failures in a window stop attempts: two
    right secrets that began a wait and three wrong codes are five."""
    theo = world.therapist
    assert theo.totp_secret is not None
    wrong = _wrong(code_at_offset(theo.totp_secret, 0))
    first, second = at(CAFE), at(CAFE)

    assert first_step(first, theo).status == 200
    refused = [second_step(first, totp=wrong).status for _ in range(2)]
    assert first_step(second, theo).status == 200
    refused.append(second_step(second, totp=wrong).status)
    stopped = second_step(second, totp=theo.totp_code())

    assert refused == [403] * 3
    assert (stopped.status, stopped.code) == (429, "rate_limited")


def test_a_finished_two_step_sign_in_leaves_nothing_counted(world: Practice5) -> None:
    theo = world.therapist
    codes = recovery_codes.issue(theo.user)

    for code in codes[:8]:
        browser = at(CAFE)
        assert first_step(browser, theo).status == 200
        assert second_step(browser, recovery_code=code).status == 200


def test_an_abandoned_second_step_counts_as_a_failure(world: Practice5) -> None:
    theo = world.therapist
    for _ in range(5):
        assert first_step(at(CAFE), theo).status == 200

    reply = first_step(Browser(REMOTE_ADDR=CAFE), theo)

    assert (reply.status, reply.code) == (429, "rate_limited")


def test_ten_wrong_codes_a_day_stop_the_second_step_everywhere(world: Practice5) -> None:
    """Someone with the password guesses codes from many addresses: after ten wrong ones
    the account's second step is refused for the day, the right code included."""
    theo = world.therapist
    assert theo.totp_secret is not None
    wrong = _wrong(code_at_offset(theo.totp_secret, 0))
    refused = []
    for number in range(4):
        browser = at(f"192.0.2.{number + 1}")
        assert first_step(browser, theo).status == 200
        for _ in range(3 if number < 3 else 1):
            refused.append(second_step(browser, totp=wrong).status)

    stopped = second_step(browser, totp=theo.totp_code())

    assert refused == [403] * 10
    assert (stopped.status, stopped.code) == (429, "rate_limited")
    assert "someone has your password" in stopped.json()["error"]["message"]
