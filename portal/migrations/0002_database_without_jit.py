"""PostgreSQL's JIT compilation turned off for every new session of the portal's database
(portal/jit.py says why). A role that may not change the database's settings is told so
in the migration's output, and the migration succeeds: the portal runs on with JIT
(docs/operations.md). Undone, it leaves the setting as it is: an operator may have set it
before."""

from __future__ import annotations

import sys
from typing import Any

from django.db import migrations

from portal import jit


def turn_off(apps: Any, schema_editor: Any) -> None:
    if not jit.turn_off(schema_editor.connection):
        sys.stderr.write(f"\n  {jit.ADVICE}\n")


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_duty_run")]

    operations = [migrations.RunPython(turn_off, migrations.RunPython.noop, elidable=False)]
