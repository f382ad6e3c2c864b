"""Once a limit refuses a place, the right secret and a wrong one get the same answer,
byte for byte and header for header, and neither opens a session or earns a cookie: a
guesser past a limit learns nothing of their guesses."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.http.conftest import Browser, Reply
from tests.http.signing_in import (
    CAFE,
    HOME,
    at,
    known_browser_cookies,
    right,
    signed_in_once_at,
    wrong,
)
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db


def assert_same_refusal(refused_right: Reply, refused_wrong: Reply) -> None:
    assert refused_right.status == refused_wrong.status == 429
    assert refused_right.code == "rate_limited"
    assert refused_right.content == refused_wrong.content
    assert refused_right.headers == refused_wrong.headers


def used_up(browser: Browser, person: Person, tries: int) -> None:
    for number in range(tries):
        wrong(browser, person.user.email, number)


def refused_both_ways(browser: Browser, person: Person) -> tuple[Reply, Reply]:
    refused_right = right(browser, person)
    refused_wrong = wrong(browser, person.user.email, 99)
    assert browser.signed_in_user() is None
    assert known_browser_cookies(browser) == {}
    return refused_right, refused_wrong


def test_at_a_place_the_account_does_not_know(world: Practice5) -> None:
    guesser = at(CAFE)
    used_up(guesser, world.client, settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS)

    assert_same_refusal(*refused_both_ways(guesser, world.client))


def test_at_an_address_the_account_knows(world: Practice5) -> None:
    """Someone on the owner's own network, without the owner's browser."""
    signed_in_once_at(HOME, world.client)
    neighbour = at(HOME)
    used_up(neighbour, world.client, settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS)

    assert_same_refusal(*refused_both_ways(neighbour, world.client))


def test_past_the_accounts_ceiling(world: Practice5) -> None:
    for number in range(settings.CONFIDE_SIGNIN_EMAIL_ATTEMPTS):
        wrong(at(f"192.0.2.{number + 1}"), world.client.user.email, number)

    assert_same_refusal(*refused_both_ways(at(CAFE), world.client))
