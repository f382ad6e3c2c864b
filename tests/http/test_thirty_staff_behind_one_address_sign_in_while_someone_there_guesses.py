"""A practice's thirty staff share one address (the clinic's Wi-Fi, or a proxy that hides
their own). One person there guesses: many wrong secrets for several emails, their
colleagues' among them. Every one of the thirty still signs in with their right secret, and
one of them who mistypes twice does too; the guesser's wrong answers stay bounded, per
account and at the address."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.models import Role
from tests.http.signing_in import CLINIC, at, right, signed_in_once_at, statuses, wrong
from tests.personas import Person, Practice5, make_person

pytestmark = pytest.mark.django_db

STAFF = 30


@pytest.fixture
def staff(world: Practice5) -> list[Person]:
    return [
        make_person(world.practice, Role.THERAPIST, f"Staff{number:02d}") for number in range(STAFF)
    ]


def test_thirty_staff_sign_in_while_one_person_at_their_address_guesses(
    world: Practice5, staff: list[Person]
) -> None:
    # Each signed in at the clinic before, in their own browser.
    browsers = [signed_in_once_at(CLINIC, person) for person in staff]

    guesser = at(CLINIC)
    targets = [staff[0].user.email, staff[1].user.email, world.therapist.user.email] + [
        f"stranger{number}@practice.invalid" for number in range(5)
    ]
    guesses: dict[str, list[int]] = {email: [] for email in targets}
    tries = 0
    for person, browser in zip(staff, browsers, strict=True):
        for _ in range(6):
            email = targets[tries % len(targets)]
            guesses[email].append(wrong(guesser, email, tries).status)
            tries += 1
        reply = right(browser, person)
        assert reply.status == 200, f"{person.user.email}: {reply.content!r}"

    # Afterwards too, the two whose accounts were guessed past the limit included: their
    # browsers are known, so the guesser's failures there do not count against them.
    for person, browser in zip(staff, browsers, strict=True):
        assert right(browser, person).status == 200, person.user.email

    # The guesser had 180 tries; only a bounded number were answered at all.
    pair: int = settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS
    for email, answers in guesses.items():
        assert answers.count(401) <= pair, email
        assert set(answers) == {401, 429}, email
    answered = sum(answers.count(401) for answers in guesses.values())
    assert answered <= settings.CONFIDE_SIGNIN_ATTEMPTS


def test_one_of_them_mistypes_and_the_others_are_not_held_up(staff: list[Person]) -> None:
    browsers = [signed_in_once_at(CLINIC, person) for person in staff]

    mistyped = [wrong(browsers[0], staff[0].user.email, number) for number in range(2)]
    assert statuses(mistyped) == {401: 2}

    for person, browser in zip(staff, browsers, strict=True):
        assert right(browser, person).status == 200, person.user.email


def test_staff_without_their_browser_still_get_in_at_the_address_they_use(
    world: Practice5, staff: list[Person]
) -> None:
    """The Python client, or a browser whose cookies were cleared: the clinic is known
    for the account, so failures for other accounts there do not count against it."""
    for person in staff:
        signed_in_once_at(CLINIC, person)
    guesser = at(CLINIC)
    strangers = [f"stranger{number}@practice.invalid" for number in range(40)]
    answers = [wrong(guesser, email, n) for n in range(4) for email in strangers]
    assert statuses(answers)[429] > 0, "the address's limit was reached"

    for person in staff:
        assert right(at(CLINIC), person).status == 200, person.user.email

    # Someone new at the clinic (no account knows this place for them) waits.
    assert right(at(CLINIC), world.other_therapist).status == 429
