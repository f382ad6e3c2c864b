"""Handshakes that arrive while the database thread reads others are read together, in one
trip and two statements (accounts/sockets.py): a reconnect storm is thousands of them. Each
still gets its own answer, one handshake's failure is its own, and a handshake given up
meanwhile changes nothing for the others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext

from accounts import sockets
from accounts.sockets import MODEL_BACKEND, Reading, authenticate_many, read_handshake
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


def _people(world: Practice5) -> list[Any]:
    return [world.therapist, world.client, world.other_therapist, world.other_client, world.admin]


def _cookies(world: Practice5, each: int) -> list[tuple[int, str]]:
    """``each`` signed-in sessions of every persona: (user id, key)."""
    return [(p.id, p.session_cookie()) for p in _people(world) for _ in range(each)]


def test_twenty_handshakes_take_two_statements(world: Practice5) -> None:
    cookies = _cookies(world, 4)
    connection = connections["default"]
    with CaptureQueriesContext(connection) as queries:
        readings = authenticate_many([key for _, key in cookies])
    assert len(queries) == 2
    for (user_id, key), reading in zip(cookies, readings, strict=True):
        assert not isinstance(reading, BaseException)
        session, user, enrol = reading
        assert (user.pk, session.session_key, enrol) == (user_id, key, False)


def test_more_handshakes_than_a_statement_holds_are_read_in_several(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sockets, "READ_AT_ONCE", 3)
    cookies = _cookies(world, 2)
    with CaptureQueriesContext(connections["default"]) as queries:
        readings = authenticate_many([key for _, key in cookies])
    # Ten sessions of five users: four statements of sessions, two of users.
    assert len(queries) == 6
    assert [r[1].pk for r in readings if not isinstance(r, BaseException)] == [
        user_id for user_id, _ in cookies
    ]


def test_one_handshake_that_fails_fails_alone(
    world: Practice5, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Django's own reading (here for the cached database sessions) raises for a user id
    that is no number; the handshakes read with it are answered."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    store = SessionStore()
    store[SESSION_KEY] = "seven"
    store["_auth_user_backend"] = MODEL_BACKEND
    store.create()
    good = world.client.session_cookie()

    first, bad, last = authenticate_many([good, store.session_key, good])

    assert isinstance(bad, Exception)
    for reading in (first, last):
        assert not isinstance(reading, BaseException)
        assert reading[1].pk == world.client.id


async def test_handshakes_that_arrive_meanwhile_share_a_trip(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookies = await sync_to_async(_cookies)(world, 10)
    trips: list[int] = []
    read = sockets._authenticate_many

    async def counted(keys: Sequence[str | None]) -> list[Reading | Exception]:
        trips.append(len(keys))
        return await read(keys)

    monkeypatch.setattr(sockets, "_authenticate_many", counted)
    readings = await asyncio.gather(*(read_handshake(key) for _, key in cookies))

    assert sum(trips) == len(cookies) == 50
    assert len(trips) <= 2, trips  # the first alone, at most, and the rest together
    assert [user.pk for _, user, _ in readings] == [user_id for user_id, _ in cookies]


async def test_a_handshake_given_up_meanwhile_leaves_the_others_answered(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookies = await sync_to_async(_cookies)(world, 2)
    entered = asyncio.Event()
    go_on = asyncio.Event()
    read = sockets._authenticate_many

    async def slow(keys: Sequence[str | None]) -> list[Reading | Exception]:
        entered.set()
        await go_on.wait()
        return await read(keys)

    monkeypatch.setattr(sockets, "_authenticate_many", slow)
    tasks = [asyncio.ensure_future(read_handshake(key)) for _, key in cookies]
    await entered.wait()
    tasks[0].cancel()  # read already: its answer is dropped
    tasks[5].cancel()  # still waiting: it is never read
    go_on.set()
    done = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(done[0], asyncio.CancelledError)
    assert isinstance(done[5], asyncio.CancelledError)
    for i, ((user_id, _), reading) in enumerate(zip(cookies, done, strict=True)):
        if i not in (0, 5):
            assert not isinstance(reading, BaseException)
            assert reading[1].pk == user_id


async def test_a_database_that_is_down_fails_each_handshake_and_the_next_are_read(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookies = await sync_to_async(_cookies)(world, 1)
    read = sockets._authenticate_many
    down = [True]

    async def unavailable(keys: Sequence[str | None]) -> list[Reading | Exception]:
        if down[0]:
            raise OperationalError("the server closed the connection")
        return await read(keys)

    monkeypatch.setattr(sockets, "_authenticate_many", unavailable)
    first = await asyncio.gather(*(read_handshake(k) for _, k in cookies), return_exceptions=True)
    assert all(isinstance(r, OperationalError) for r in first)
    assert len({id(r) for r in first}) == len(first)  # each its own, with its own traceback
    down[0] = False
    again = await asyncio.gather(*(read_handshake(k) for _, k in cookies))
    assert [user.pk for _, user, _ in again] == [user_id for user_id, _ in cookies]


def test_a_cookie_no_session_can_have_fails_nobody_beside_it(world: Practice5) -> None:
    """A cookie of NUL characters (``\\000`` escapes, which Django's cookie parser decodes)
    made PostgreSQL refuse the batch's statement, and every handshake in it failed. A key
    no session of Django's can have is not looked up: nobody, as no row would say."""
    nul = sockets.session_key_of({"headers": [(b"cookie", b'sessionid="' + b"\\000" * 8 + b'"')]})
    assert nul == "\x00" * 8
    good = world.client.session_cookie()
    odd = ["\x00" * 8, good.upper(), good + "x" * 40, "ünïcödé-key"]

    readings = authenticate_many([good, *odd, good])

    assert not any(isinstance(r, BaseException) for r in readings)
    users = [r[1] for r in readings if not isinstance(r, BaseException)]
    assert users[0].pk == users[-1].pk == world.client.id
    assert not any(user.is_authenticated for user in users[1:-1])


def test_no_cookie_needs_no_database(world: Practice5, monkeypatch: pytest.MonkeyPatch) -> None:
    """A handshake without a cookie (or with one that cannot be a key) is answered even
    while the database is unreachable: the socket then closes as unauthenticated."""

    def unreachable() -> None:
        raise OperationalError("the database is unreachable")

    monkeypatch.setattr(connections["default"], "cursor", unreachable)
    readings = authenticate_many([None, "short", "\x00" * 8])
    assert [r[1].is_authenticated for r in readings if not isinstance(r, BaseException)] == [
        False,
        False,
        False,
    ]


async def test_a_batch_that_fails_is_read_again_one_by_one(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever fails a batch's statements (a key the database refuses, a connection lost)
    fails only the handshakes it fails when each is read alone."""
    cookies = await sync_to_async(_cookies)(world, 2)
    poison = "poison-key"
    read = sockets._authenticate_many

    async def refusing(keys: Sequence[str | None]) -> list[Reading | Exception]:
        if poison in keys:
            raise OperationalError("the database refused a key")
        return await read(keys)

    monkeypatch.setattr(sockets, "_authenticate_many", refusing)
    keys: list[str | None] = [key for _, key in cookies]
    keys.insert(3, poison)
    done = await asyncio.gather(*(read_handshake(key) for key in keys), return_exceptions=True)

    assert isinstance(done.pop(3), OperationalError)
    assert [r[1].pk for r in done if not isinstance(r, BaseException)] == [
        user_id for user_id, _ in cookies
    ]


async def test_a_reader_stopped_before_it_began_leaves_no_handshake_waiting(
    world: Practice5,
) -> None:
    key = await sync_to_async(world.client.session_cookie)()
    first = asyncio.ensure_future(read_handshake(key))
    await asyncio.sleep(0)  # the handshake is queued, its reader made but not yet begun
    waiting = sockets._waiting[asyncio.get_running_loop()]
    assert waiting.reader is not None
    waiting.reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(first, 2)

    _, user, _ = await asyncio.wait_for(read_handshake(key), 5)
    assert user.pk == world.client.id
