"""``confide backup`` and ``restore`` reach PostgreSQL as the server does: DATABASE_URL's
TLS options go to pg_dump and pg_restore in libpq's variables (never a weaker connection),
the password only in their environment, and an option with no such variable stops the
backup rather than being dropped."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal import backups


def _with_database(monkeypatch: pytest.MonkeyPatch, **database: object) -> None:
    monkeypatch.setattr(backups, "settings", SimpleNamespace(DATABASES={"default": database}))


def test_the_tls_options_and_the_password_reach_libpq(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_database(
        monkeypatch,
        HOST="db.internal",
        PORT=5432,
        USER="confide",
        PASSWORD="not on a command line",
        NAME="confide",
        OPTIONS={"sslmode": "verify-full", "sslrootcert": "/etc/confide/db-ca.pem"},
    )
    env = backups._postgres_env()
    assert env["PGSSLMODE"] == "verify-full"
    assert env["PGSSLROOTCERT"] == "/etc/confide/db-ca.pem"
    assert env["PGPASSWORD"] == "not on a command line"
    assert (env["PGHOST"], env["PGPORT"], env["PGDATABASE"]) == ("db.internal", "5432", "confide")


def test_an_option_libpq_cannot_be_given_stops_the_backup(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_database(monkeypatch, NAME="confide", OPTIONS={"pool": "yes"})
    with pytest.raises(backups.BackupError, match="'pool' has no libpq variable"):
        backups._postgres_env()
