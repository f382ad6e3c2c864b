"""PostgreSQL compiles a query to machine code (JIT) when its estimated cost is high. The
conversation listing's estimate is (a sub-query per conversation, guessed at thousands of
rows each, where the indexes find a handful), so each listing spent about 200 ms compiling
what then ran in 1 to 2 ms (docs/performance.md, "The listing in pages"). The portal runs
no query long enough to gain from it: JIT is turned off for every new session of the
portal's database. ``ALTER DATABASE`` rather than a setting of each connection, so that it
holds through a pooler in transaction mode (which keeps no session state) as well.

Changing a database's settings takes its owner (or a superuser); a role that is neither
is told so in the migration's output and runs on with JIT (docs/operations.md)."""

from __future__ import annotations

import sys
from typing import Any

from django.db import migrations

TURN_OFF = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'JIT stays on: only the database''s owner can turn it off (docs/operations.md)';
END
$$;
"""

TURN_BACK_ON = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END
$$;
"""


# Whether the database's own settings (any role's session) hold ``jit=off``.
TURNED_OFF = """
SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
WHERE d.datname = current_database() AND s.setrole = 0 AND 'jit=off' = ANY(s.setconfig)
"""


def turn_off(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TURN_OFF, params=None)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(TURNED_OFF)
        if cursor.fetchone() is None:
            sys.stderr.write(
                "\n  JIT stays on: only the database's owner can turn it off. The owner runs,"
                " once: ALTER DATABASE <name> SET jit = off (docs/operations.md)\n"
            )


def turn_back_on(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TURN_BACK_ON, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_duty_run")]

    operations = [migrations.RunPython(turn_off, turn_back_on, elidable=False)]
