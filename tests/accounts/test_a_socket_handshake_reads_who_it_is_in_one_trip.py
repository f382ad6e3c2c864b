"""A websocket's handshake reads its session, the user it signs in and, for staff, whether
they must still enrol a second factor, in one trip to the database thread
(accounts/sockets.py): a reconnect storm is made of handshakes. What it decides is
Django's own ``auth.get_user``: a session from before a password change signs in nobody."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session

from accounts.models import Role
from accounts.sockets import authenticate, session_key_of
from tests.personas import Practice5, make_person, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> Practice5:
    return make_practice()


def test_a_clients_handshake_reads_the_session_and_the_user(
    world: Practice5, django_assert_num_queries: Any
) -> None:
    key = world.client.session_cookie()
    with django_assert_num_queries(2):
        session, user, enrol = authenticate(key)
    assert (user.pk, enrol, session.session_key) == (world.client.id, False, key)


def test_a_therapists_handshake_asks_for_the_second_factor_in_the_same_trip(
    world: Practice5,
) -> None:
    _, therapist, enrol = authenticate(world.therapist.session_cookie())
    assert (therapist.pk, enrol) == (world.therapist.id, False)

    wren = make_person(world.practice, Role.THERAPIST, "Wren", totp=False)
    _, user, enrol = authenticate(wren.session_cookie())
    assert (user.pk, enrol) == (wren.id, True)


def test_no_cookie_or_an_unknown_one_signs_in_nobody(
    world: Practice5, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        _, user, enrol = authenticate(None)
    assert (user.is_authenticated, enrol) == (False, False)
    _, user, enrol = authenticate("not-a-session")
    assert (user.is_authenticated, enrol) == (False, False)


def test_a_session_from_before_a_password_change_signs_in_nobody_and_ends(
    world: Practice5,
) -> None:
    key = world.client.session_cookie()
    world.client.user.set_password("a new passphrase for this account")
    world.client.user.save()

    _, user, _ = authenticate(key)

    assert not user.is_authenticated
    assert not Session.objects.filter(session_key=key).exists()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"cookie", b"sessionid=abc; csrftoken=x")], "abc"),
        ([(b"cookie", b"csrftoken=x"), (b"cookie", b"sessionid=def")], "def"),
        ([(b"cookie", b"sessionid=")], None),
        ([(b"host", b"127.0.0.1")], None),
    ],
)
def test_the_session_key_comes_from_every_cookie_header(
    headers: list[tuple[bytes, bytes]], expected: str | None
) -> None:
    assert session_key_of({"headers": headers}) == expected
