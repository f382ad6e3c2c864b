"""PostgreSQL's JIT compilation, off for the portal's database.

PostgreSQL compiles a query to machine code when its estimated cost is high. The
conversation listing's estimate is (a sub-query per conversation, guessed at thousands of
rows each, where the indexes find a handful), so each listing spent about 200 ms compiling
what then ran in 1 to 2 ms (docs/performance.md, "The listing in pages, and PostgreSQL's
JIT"). The portal runs no query long enough to gain from it. It is turned off with
``ALTER DATABASE`` rather than a setting of each connection, so that it holds through a
pooler in transaction mode (which keeps no session state) too; by the migration
``portal 0002``, and again after ``confide restore`` (a database's settings are not in
its dump).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

# Changing a database's settings takes its owner (or a superuser). Whatever refuses it,
# the portal runs on (with JIT): a warning, never a failed migration or restore.
_TURN_OFF = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'JIT stays on: %', SQLERRM;
END
$$;
"""

# Whether the database's own settings (for every role) hold ``jit=off``.
_TURNED_OFF = """
SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
WHERE d.datname = current_database() AND s.setrole = 0 AND 'jit=off' = ANY(s.setconfig)
"""

ADVICE = (
    "JIT stays on for this database: only its owner can turn it off. The owner runs, once:"
    " ALTER DATABASE <name> SET jit = off (docs/operations.md)"
)


def turn_off(connection: BaseDatabaseWrapper) -> bool:
    """Turns JIT off for every new session of the connection's database (PostgreSQL; any
    other database has none). Returns whether it is off, or ``False`` when this role may
    not change it (``ADVICE`` says what to do)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(_TURN_OFF, None)
        cursor.execute(_TURNED_OFF)
        return cursor.fetchone() is not None
