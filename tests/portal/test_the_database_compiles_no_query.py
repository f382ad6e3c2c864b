"""PostgreSQL's JIT compiled the conversation listing on every request (about 200 ms, for a
query that runs in 1 to 2 ms), because its estimate of the listing's cost is far above
the real one. The migration ``portal 0002`` turns JIT off for the portal's database: each
new session, the pooler's as well, starts without it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.db import connection

from accounts.models import Role
from messaging.views import _memberships
from tests.conftest import require_postgresql
from tests.personas import Practice5, make_chat, make_person

pytestmark = pytest.mark.django_db


def _new_session() -> psycopg.Connection[Any]:
    connection.ensure_connection()
    return psycopg.connect(**connection.get_connection_params())


def test_a_new_session_of_the_database_starts_without_jit() -> None:
    require_postgresql("JIT is PostgreSQL's")
    with _new_session() as session:
        row = session.execute("SHOW jit").fetchone()
    assert row == ("off",)


def test_the_listing_is_not_compiled(world: Practice5) -> None:
    require_postgresql("JIT is PostgreSQL's")
    for name in ("Rae", "Sol", "Tam"):
        make_chat(world.practice, world.therapist, make_person(world.practice, Role.CLIENT, name))
    sql, params = _memberships(world.therapist.user, current_envelopes=True).query.sql_with_params()
    with _new_session() as session:
        # Whatever the estimate: a listing of a large practice is costed above the threshold.
        session.execute("SET jit_above_cost = 0")
        with session.cursor() as cursor:
            cursor.execute(b"EXPLAIN (ANALYZE, FORMAT TEXT) " + sql.encode(), params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "JIT:" not in plan, plan
