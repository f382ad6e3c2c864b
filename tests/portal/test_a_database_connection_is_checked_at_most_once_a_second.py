"""The PostgreSQL backend (portal/postgresql/base.py) checks a kept connection before a
hop's first query, as Django's ``CONN_HEALTH_CHECKS`` does, but not again within a second
of the last check or of the connection's opening: a reconnect storm's hops share one
``SELECT 1`` a second instead of paying one each.

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
def wrapper() -> Iterator[base.DatabaseWrapper]:
    require_service("DATABASE_URL", "PostgreSQL (postgres://postgres@127.0.0.1:5432/confide_ci)")
    assert connection.vendor == "postgresql"
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


def hop(kept: base.DatabaseWrapper) -> int:
    """One call on the database thread, as Channels makes it."""
    kept.close_if_unusable_or_obsolete()
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def end_the_servers_side(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)


def test_hops_within_a_second_share_the_connections_opening(wrapper: base.DatabaseWrapper) -> None:
    checks = wrapper.checks  # type: ignore[attr-defined]
    first = hop(wrapper)
    for _ in range(20):
        assert hop(wrapper) == first  # the same connection, kept
    assert checks == []


def test_a_hop_a_second_after_the_last_check_checks_again(wrapper: base.DatabaseWrapper) -> None:
    checks = wrapper.checks  # type: ignore[attr-defined]
    first = hop(wrapper)
    wrapper.checked_at -= base.CHECKED_FOR
    assert hop(wrapper) == first
    assert checks == [True]
    # That check vouches for the next second.
    hop(wrapper)
    assert checks == [True]


def test_a_connection_the_server_ended_is_replaced_before_the_hops_query(
    wrapper: base.DatabaseWrapper,
) -> None:
    checks = wrapper.checks  # type: ignore[attr-defined]
    first = hop(wrapper)
    end_the_servers_side(first)
    wrapper.checked_at -= base.CHECKED_FOR
    second = hop(wrapper)
    assert second != first
    assert checks == [False]


def test_within_the_second_a_dropped_connection_fails_one_hop_only(
    wrapper: base.DatabaseWrapper,
) -> None:
    """What the saved checks give up: the hop fails (its caller answers ``unavailable``
    and the client resends), and the connection is replaced before the next."""
    first = hop(wrapper)
    end_the_servers_side(first)
    with pytest.raises(OperationalError):
        hop(wrapper)
    assert hop(wrapper) != first
