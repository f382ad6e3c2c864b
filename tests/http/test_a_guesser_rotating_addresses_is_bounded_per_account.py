"""A guesser who changes address for every try, or tries from many at the same moment,
gets at most ``CONFIDE_SIGNIN_EMAIL_ATTEMPTS`` wrong answers for one account per
``CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS`` (20 an hour by default, the number
docs/threat-model.md states), and the addresses of one IPv6 /64 count as one."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from tests.http.signing_in import SIGN_IN, at, right, statuses, wrong, wrong_secret
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

THREAT_MODEL = Path(__file__).resolve().parents[2] / "docs" / "threat-model.md"


def test_one_new_address_per_guess_gets_the_accounts_ceiling_and_no_more(
    world: Practice5,
) -> None:
    email = world.therapist.user.email
    answers = [wrong(at(f"192.0.2.{number + 1}"), email, number) for number in range(60)]

    ceiling: int = settings.CONFIDE_SIGNIN_EMAIL_ATTEMPTS
    assert statuses(answers) == {401: ceiling, 429: 60 - ceiling}
    assert all(reply.status == 429 for reply in answers[ceiling:])
    # The right secret from yet another address is refused as well: no oracle.
    assert right(at("192.0.2.250"), world.therapist).status == 429


def test_the_documented_bound_per_hour_is_the_one_configured() -> None:
    ceiling: int = settings.CONFIDE_SIGNIN_EMAIL_ATTEMPTS
    window_s: int = settings.CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS
    per_hour = ceiling * 3600 // window_s
    assert per_hour == 20
    found = re.search(r"at most (\d+) guesses an hour", THREAT_MODEL.read_text(encoding="utf-8"))
    assert found, "docs/threat-model.md states the bound per hour"
    assert int(found.group(1)) == per_hour


@override_settings(CONFIDE_SIGNIN_EMAIL_ATTEMPTS=4, CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS=1)
def test_the_ceiling_starts_over_each_window_and_no_sooner(world: Practice5) -> None:
    email = world.therapist.user.email
    first = [wrong(at(f"192.0.2.{n + 1}"), email, n).status for n in range(6)]
    time.sleep(1.2)
    second = [wrong(at(f"192.0.2.{n + 101}"), email, n).status for n in range(6)]

    assert first == second == [401] * 4 + [429] * 2


def test_the_addresses_of_one_ipv6_64_count_as_one(world: Practice5) -> None:
    email = world.client.user.email
    answers = [wrong(at(f"2001:db8:1:2::{number + 1:x}"), email, number) for number in range(8)]

    pair: int = settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS
    assert statuses(answers) == {401: pair, 429: 8 - pair}


CONCURRENT = 8


@override_settings(CONFIDE_SIGNIN_EMAIL_ATTEMPTS=3)
def test_guesses_from_many_addresses_at_the_same_moment_cannot_pass_the_ceiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each attempt is counted before its secret is checked, in one atomic step."""

    def slow_refusal(request: object, **credentials: object) -> None:
        time.sleep(0.3)  # a check slow enough for every request to start meanwhile

    monkeypatch.setattr("accounts.views.authenticate", slow_refusal)
    start = threading.Barrier(CONCURRENT)
    answers: list[int] = []
    lock = threading.Lock()

    def guess(number: int) -> None:
        guesser = at(f"192.0.2.{number + 1}")
        token = guesser.csrf_token()
        start.wait(timeout=10)
        body = {"email": "theo@practice.invalid", "auth_secret": wrong_secret(number)}
        reply = guesser.post_with_token(SIGN_IN, body, csrf_token=token)
        with lock:
            answers.append(reply.status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers) == [401] * 3 + [429] * (CONCURRENT - 3)
