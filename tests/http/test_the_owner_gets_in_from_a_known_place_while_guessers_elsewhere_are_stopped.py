"""Strangers guessing a therapist's password from many addresses reach the account's
ceiling and are stopped; the therapist still gets in from the browser they signed in with
before (on any network) and from the address they signed in from before. Only a place the
account does not know waits for the window to end."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.http.signing_in import (
    CAFE,
    HOME,
    at,
    moved_to,
    right,
    signed_in_once_at,
    statuses,
    wrong,
)
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def guess_until_stopped(email: str, addresses: int = 30) -> list[int]:
    """Two wrong secrets from each of many addresses, as a botnet would try."""
    answers = []
    for number in range(addresses):
        guesser = at(f"192.0.2.{number + 1}")
        answers += [wrong(guesser, email, n).status for n in range(2)]
    return answers


def test_the_owners_browser_gets_in_on_any_network_once_guessers_are_stopped(
    world: Practice5,
) -> None:
    theo = world.therapist
    laptop = signed_in_once_at(HOME, theo)

    answers = guess_until_stopped(theo.user.email)

    ceiling: int = settings.CONFIDE_SIGNIN_EMAIL_ATTEMPTS
    assert answers.count(401) == ceiling
    assert answers[-1] == 429
    assert right(at("192.0.2.250"), theo).status == 429, "the guessers are stopped"
    reply = right(moved_to(laptop, CAFE), theo)
    assert reply.status == 200, reply.content


def test_the_owner_gets_in_at_an_address_they_used_without_their_browser(
    world: Practice5,
) -> None:
    theo = world.therapist
    signed_in_once_at(HOME, theo)

    guess_until_stopped(theo.user.email)

    reply = right(at(HOME), theo)  # a new browser, or the Python client, at home
    assert reply.status == 200, reply.content


def test_a_place_the_account_does_not_know_waits_for_the_window(world: Practice5) -> None:
    theo = world.therapist
    signed_in_once_at(HOME, theo)

    guess_until_stopped(theo.user.email)

    refused = right(at(CAFE), theo)
    assert refused.status == 429
    assert refused.json()["error"]["retry_after_s"] == settings.CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS


def test_a_guesser_at_one_address_is_stopped_after_the_pair_limit(world: Practice5) -> None:
    clara = world.client
    signed_in_once_at(HOME, clara)
    guesser = at(CAFE)

    answers = [wrong(guesser, clara.user.email, number) for number in range(12)]

    assert statuses(answers) == {
        401: settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS,
        429: 12 - settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS,
    }
    assert right(guesser, clara).status == 429
    assert right(at(HOME), clara).status == 200
