"""A websocket's handshake reads its session, the user it signs in and, for staff, whether
they must still enrol a second factor, in one trip to the database thread
(accounts/sockets.py): a reconnect storm is made of handshakes. What it decides is
Django's own ``auth.get_user``: a session from before a password change signs in nobody."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, TotpDevice, User
from accounts.sockets import (
    MODEL_BACKEND,
    Reading,
    authenticate,
    authenticate_many,
    django_authenticate,
    session_key_of,
)
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


# --- the portal's own reading against Django's -------------------------------------------


def _session(user_id: object, **more: object) -> str:
    """A session as Django's sign-in makes one, with ``more`` set or (None) taken out."""
    store = SessionStore()
    store[SESSION_KEY] = str(user_id)
    store[BACKEND_SESSION_KEY] = MODEL_BACKEND
    store[HASH_SESSION_KEY] = ""
    for name, value in more.items():
        if value is None:
            del store[name]
        else:
            store[name] = value
    store.create()
    assert store.session_key is not None
    return store.session_key


def _signed_in(person: Any) -> str:
    return person.session_cookie()  # type: ignore[no-any-return]


def _no_hash(world: Practice5) -> str:
    return _session(world.client.id, **{HASH_SESSION_KEY: None})


def _password_changed(world: Practice5) -> str:
    key = _signed_in(world.client)
    world.client.user.set_password(f"another passphrase {secrets.token_hex(4)}")
    world.client.user.save()
    return key


def _inactive(world: Practice5) -> str:
    """A session left behind by a deactivation (which ends the account's sessions itself:
    here the plain update, which does not, stands for a race with it)."""
    key = _signed_in(world.client)
    QuerySet.update(User.objects.filter(pk=world.client.id), is_active=False)
    assert Session.objects.filter(pk=key).exists()
    return key


def _expired(world: Practice5) -> str:
    key = _signed_in(world.client)
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    return key


def _corrupted(world: Practice5) -> str:
    key = _signed_in(world.client)
    Session.objects.filter(pk=key).update(session_data="not signed data")
    return key


def _unconfirmed_app(world: Practice5) -> str:
    wren = make_person(world.practice, Role.THERAPIST, "Wren", totp=False)
    TotpDevice.objects.create(user=wren.user, sealed_secret=b"\0" * 16, confirmed_at=None)
    return _signed_in(wren)


CASES: dict[str, Callable[[Practice5], str | None]] = {
    "a client": lambda w: _signed_in(w.client),
    "a therapist with an authenticator app": lambda w: _signed_in(w.therapist),
    "a therapist with none": lambda w: _signed_in(
        make_person(w.practice, Role.THERAPIST, "Wren", totp=False)
    ),
    "a therapist whose app is not confirmed": _unconfirmed_app,
    "an admin": lambda w: _signed_in(w.admin),
    "a password changed since": _password_changed,
    "a deactivated account": _inactive,
    "an account that is gone": lambda w: _session(10**9),
    "a user id that is no number": lambda w: _session("seven"),
    "a user id no row can hold": lambda w: _session(2**64),
    "no user id": lambda w: _session(w.client.id, **{SESSION_KEY: None}),
    "no backend": lambda w: _session(w.client.id, **{BACKEND_SESSION_KEY: None}),
    "a backend not configured": lambda w: _session(
        w.client.id, **{BACKEND_SESSION_KEY: "django.contrib.auth.backends.RemoteUserBackend"}
    ),
    "no password hash": _no_hash,
    "an expired session": _expired,
    "corrupted session data": _corrupted,
    "an unknown key": lambda w: "k" * 32,
    "a key too short to be one": lambda w: "short",
    "no cookie": lambda w: None,
}


def _answer(read: Any, key: str | None) -> tuple[object, ...]:
    try:
        session, user, enrol = read(key)
    except ValidationError:
        # Django's own reading raises on a user id that is no number (the handshake then
        # fails): the portal's signs in nobody. Either way nobody is let in.
        return (None, "AnonymousUser", False, None, Session.objects.filter(pk=key).exists())
    return (
        user.email if user.is_authenticated else None,
        type(user).__name__,
        enrol,
        session.session_key,
        key is not None and Session.objects.filter(pk=key).exists(),
    )


def _among_others(world: Practice5) -> Callable[[str | None], Reading]:
    """The portal's reading of a session read in one batch with an admin's session and no
    cookie, which must still read as they do alone."""
    admin = _signed_in(world.admin)

    def read(key: str | None) -> Reading:
        before, reading, after = authenticate_many([admin, key, None])
        assert not isinstance(before, BaseException) and not isinstance(after, BaseException)
        assert (before[1].pk, before[2], before[0].session_key) == (world.admin.id, False, admin)
        assert not after[1].is_authenticated
        if isinstance(reading, BaseException):
            raise reading
        return reading

    return read


@pytest.mark.parametrize("case", list(CASES))
def test_the_portals_reading_answers_as_djangos_does(world: Practice5, case: str) -> None:
    """The same session read three ways (each on a session made afresh, since a reading may
    end it): the portal's alone, the portal's in a batch with others, and Django's. The same
    user, the same enrolment, the same session left."""
    make = CASES[case]
    answers = []
    for read in (authenticate, _among_others(world), django_authenticate):
        with transaction.atomic():
            answers.append(_answer(read, make(world)))
            transaction.set_rollback(True)
    ours, batched, djangos = answers
    # The session keys differ (each case made its own), and so may only they.
    assert ours[:3] + ours[4:] == batched[:3] + batched[4:] == djangos[:3] + djangos[4:]
    assert (ours[3] is None) == (batched[3] is None)
    assert (ours[3] is None) == (djangos[3] is None) or case == "a user id that is no number"


def test_the_portals_reading_reads_less(world: Practice5, django_assert_num_queries: Any) -> None:
    """Two statements for anyone, where Django's takes four for a therapist without a
    second factor; the user comes back whole (every field as Django's query gives it)."""
    wren = make_person(world.practice, Role.THERAPIST, "Wren", totp=False)
    key = _signed_in(wren)
    with django_assert_num_queries(2):
        _, user, enrol = authenticate(key)
    with django_assert_num_queries(4):
        _, django_user, _ = django_authenticate(key)
    assert enrol
    for field in User._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(django_user, field.attname), field.name
        assert type(getattr(user, field.attname)) is type(getattr(django_user, field.attname))


def test_a_session_signed_under_a_fallback_secret_signs_in_nobody_on_a_socket(
    world: Practice5, settings: Any
) -> None:
    """Django would give the session a new key, which a socket cannot hand to the browser:
    nobody is signed in on the socket, and the session stays for the browser's next
    request (which renews it as Django does)."""
    old = settings.SECRET_KEY
    key = _signed_in(world.client)
    settings.SECRET_KEY = "another secret key for this test " + secrets.token_hex(16)
    settings.SECRET_KEY_FALLBACKS = [old]

    session, user, _ = authenticate(key)

    assert not user.is_authenticated
    assert Session.objects.filter(pk=key).exists()
    assert session.session_key == key


def test_the_portals_reading_reads_every_user_as_django_does() -> None:
    """The portal's statement reads the user's table as it is; Django reads it through the
    model's default manager. Should that manager ever leave users out (a soft delete), the
    two would differ: the statement must then leave them out too."""
    assert not User._default_manager.get_queryset().query.where
