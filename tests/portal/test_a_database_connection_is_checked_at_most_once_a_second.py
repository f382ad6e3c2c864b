"""The PostgreSQL backend (portal/postgresql/base.py) checks a kept connection before a
hop's first query, as Django's ``CONN_HEALTH_CHECKS`` does; a websocket's hops
(``socket_hops``, around every socket in portal/asgi.py) do not check it again within
``CHECKED_FOR`` of the last check or of the connection's opening, so a reconnect storm's
hops share one ``SELECT 1`` a second instead of paying one each. Everything else (HTTP
views, the job worker) checks at every hop, as before.

Each test drives a wrapper of its own, configured as production's (connections kept for
60 s, health checks on), through what Channels does around every database hop
(``close_if_unusable_or_obsolete``, then the hop's queries)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection

from portal.postgresql import base
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def wrapper(monkeypatch: pytest.MonkeyPatch) -> Iterator[base.DatabaseWrapper]:
    require_service("DATABASE_URL", "PostgreSQL (postgres://postgres@127.0.0.1:5432/confide_ci)")
    assert connection.vendor == "postgresql"
    # Long enough that a loaded machine's hops all fall within it; the tests move the
    # last check back by it where they need a check to be due.
    monkeypatch.setattr(base, "CHECKED_FOR", 60.0)
    kept = base.DatabaseWrapper(
        {**connection.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}
    )
    checks: list[bool] = []
    is_usable = kept.is_usable

    def counted() -> bool:
        usable = is_usable()
        checks.append(usable)
        return usable

    kept.is_usable = counted  # type: ignore[method-assign]
    kept.checks = checks  # type: ignore[attr-defined]
    yield kept
    kept.close()


def hop(kept: base.DatabaseWrapper, queries: int = 1) -> int:
    """One call on the database thread, as Channels makes it."""
    kept.close_if_unusable_or_obsolete()
    pid = 0
    for _ in range(queries):
        with kept.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
        assert row is not None
        pid = int(row[0])
    return pid


def end_the_servers_side(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)


def test_a_sockets_hops_share_the_connections_opening(wrapper: base.DatabaseWrapper) -> None:
    checks = wrapper.checks  # type: ignore[attr-defined]
    with base.socket_hops():
        first = hop(wrapper)
        for _ in range(20):
            assert hop(wrapper, queries=2) == first  # the same connection, kept
    assert checks == []


def test_every_other_hop_is_checked_as_django_checks_it(wrapper: base.DatabaseWrapper) -> None:
    """An HTTP view's or the job worker's: they are not a socket's."""
    checks = wrapper.checks  # type: ignore[attr-defined]
    first = hop(wrapper)
    for _ in range(3):
        assert hop(wrapper, queries=2) == first
    assert checks == [True, True, True]


def test_a_sockets_hop_after_the_interval_checks_again(wrapper: base.DatabaseWrapper) -> None:
    checks = wrapper.checks  # type: ignore[attr-defined]
    with base.socket_hops():
        first = hop(wrapper)
        wrapper.checked_at -= base.CHECKED_FOR
        assert hop(wrapper, queries=2) == first
        assert checks == [True]
        # That check vouches for the next interval.
        hop(wrapper)
        assert checks == [True]


def test_a_connection_the_server_ended_is_replaced_before_the_hops_query(
    wrapper: base.DatabaseWrapper,
) -> None:
    checks = wrapper.checks  # type: ignore[attr-defined]
    with base.socket_hops():
        first = hop(wrapper)
        end_the_servers_side(first)
        wrapper.checked_at -= base.CHECKED_FOR
        second = hop(wrapper)
    assert second != first
    assert checks == [False]


def test_outside_a_socket_a_dropped_connection_is_replaced_within_the_interval(
    wrapper: base.DatabaseWrapper,
) -> None:
    """The job worker polls back to back: its hops never fail for a dropped connection."""
    first = hop(wrapper)
    end_the_servers_side(first)
    assert hop(wrapper) != first


def test_in_a_socket_a_dropped_connection_fails_one_hop_only(
    wrapper: base.DatabaseWrapper,
) -> None:
    """What the saved checks give up: the hop fails (a frame's call answers
    ``unavailable`` and the client resends), and the connection is replaced before the
    next."""
    with base.socket_hops():
        first = hop(wrapper)
        end_the_servers_side(first)
        with pytest.raises(OperationalError):
            hop(wrapper)
        assert hop(wrapper) != first


@pytest.mark.django_db(transaction=True)
async def test_a_websockets_hops_are_a_sockets_and_a_pages_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """portal/asgi.py marks a websocket's database calls, on the database thread too;
    an HTTP request's are not marked."""
    from asgiref.sync import sync_to_async
    from channels.db import database_sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    from tests.messaging.conftest import communicator
    from tests.personas import make_practice

    require_service("DATABASE_URL", "PostgreSQL (postgres://postgres@127.0.0.1:5432/confide_ci)")
    seen: list[bool] = []
    check = base.DatabaseWrapper.close_if_health_check_failed

    def noted(self: base.DatabaseWrapper) -> None:
        seen.append(base._in_socket_hops.get())
        check(self)

    world = await database_sync_to_async(make_practice)()
    cookie = await database_sync_to_async(world.client.session_cookie)()
    monkeypatch.setattr(base.DatabaseWrapper, "close_if_health_check_failed", noted)
    socket = communicator(cookie)
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=5))["type"] == "ready"
    await socket.disconnect()
    assert seen and all(seen)

    seen.clear()
    client = AsyncClient()
    await sync_to_async(client.force_login)(world.client.user)
    response = await client.get("/api/conversations")
    assert response.status_code == 200
    assert seen and not any(seen)
    await sync_to_async(connections.close_all)()
