"""Backups of the database, and restores from them (``confide backup``, ``confide restore``).

PostgreSQL: ``pg_dump --format=custom`` of the database, restored with ``pg_restore`` into
a new, empty database. The embedded SQLite file: SQLite's online backup, copied back into
an empty data directory. Either way a restore begins a new database generation
(messaging/services/generations.py), so that the clients notice what the backup lacks.

What a backup does not hold, and must be kept apart once (it does not change): the secret
key (``SECRET_KEY``), the VAPID key (``CONFIDE_VAPID_PRIVATE_KEY``), and the settings.
docs/operations.md, "Backups", says how.

The connection's password, if the URL has one, reaches ``pg_dump`` and ``pg_restore`` in
their environment (``PGPASSWORD``), never on a command line another user could read.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

from portal import jit

__all__ = ["Backup", "BackupError", "make_backup", "prune", "restore_backup"]

NAME = re.compile(r"^confide-\d{8}T\d{6}Z\.(dump|sqlite3)$")


# DATABASE_URL's options and the libpq variables that carry them to pg_dump and pg_restore.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
}


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    seconds: float


def _postgres_env() -> dict[str, str]:
    """libpq's variables for the configured database (its password among them)."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        value = db.get(key)
        if value:
            env[variable] = str(value)
    # The connection's TLS (DATABASE_URL's ?sslmode=verify-full&sslrootcert=...): the dump
    # travels as the server's own connections do, never downgraded.
    for option, given in db.get("OPTIONS", {}).items():
        libpq = _LIBPQ_OPTIONS.get(option)
        if libpq is None:
            raise BackupError(
                f"DATABASE_URL's option {option!r} has no libpq variable for pg_dump; "
                "remove it, or back up with pg_dump yourself."
            )
        env[libpq] = str(given)
    return env


def _run(command: list[str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - fixed programs, arguments from the operator
            command, env=_postgres_env(), capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed: install PostgreSQL's client programs "
            "(Debian: apt-get install postgresql-client)."
        ) from None
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def make_backup(directory: Path) -> Backup:
    """A new backup file in ``directory`` (made 0700 if missing), named by the time in UTC;
    written under a temporary name and renamed once whole."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    postgres = connection.vendor == "postgresql"
    final = directory / f"confide-{stamp}.{'dump' if postgres else 'sqlite3'}"
    partial = final.with_name(final.name + ".partial")
    try:
        if postgres:
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(partial)]
            )
            # Read back: a dump pg_restore cannot list is no backup.
            _run(["pg_restore", "--list", str(partial)])
        else:
            source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
            target = sqlite3.connect(str(partial))
            try:
                source.backup(target)
                (ok,) = target.execute("PRAGMA integrity_check").fetchone()
                if ok != "ok":
                    raise BackupError(f"The copy fails SQLite's integrity check: {ok}")
            finally:
                target.close()
                source.close()
        partial.chmod(0o600)
        partial.rename(final)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(final, final.stat().st_size, time.monotonic() - started)


def prune(directory: Path, keep: int) -> list[Path]:
    """Deletes all but the newest ``keep`` backups of ``directory``; returns those deleted."""
    backups = sorted(p for p in directory.iterdir() if NAME.match(p.name))
    gone = backups[:-keep] if keep > 0 else []
    for path in gone:
        path.unlink()
    return gone


def restore_backup(path: Path) -> None:
    """Restores ``path`` into the configured database, which must be empty: nothing is
    ever restored over a database that holds anything."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    if connection.vendor == "postgresql":
        if not path.name.endswith(".dump"):
            raise BackupError(f"{path} is not a PostgreSQL backup (confide-<time>.dump).")
        if connection.introspection.table_names():
            raise BackupError(
                f"The database {settings.DATABASES['default']['NAME']} is not empty: restore "
                "into a new one (createdb), then point DATABASE_URL at it."
            )
        connection.close()
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "-d",
                str(settings.DATABASES["default"]["NAME"]),
                str(path),
            ]
        )
        # The database's own settings are not in its dump: JIT off again (portal/jit.py).
        if not jit.turn_off(connection):
            sys.stderr.write(f"{jit.ADVICE}\n")
        return
    if not path.name.endswith(".sqlite3"):
        raise BackupError(
            f"{path} is not a backup of the embedded database (confide-<time>.sqlite3)."
        )
    target = Path(settings.DATABASES["default"]["NAME"])
    connection.close()
    if target.exists() and target.stat().st_size > 0:
        raise BackupError(
            f"{target} is not empty: stop the server, move the data directory's "
            "confide.sqlite3 (and its -wal and -shm files) away, then restore."
        )
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    target.chmod(0o600)
