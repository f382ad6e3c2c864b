"""A real Confide server for the browser tests: ``confide migrate``, ``confide seed_demo``
and the server (`confide serve`) as subprocesses on 127.0.0.1.

The database is a SQLite file in a temporary CONFIDE_DATA_DIR (the embedded default), or,
when DATABASE_URL and REDIS_URL are set (as in CI), a PostgreSQL database made for this
test session, dropped afterwards, with a Redis key prefix of its own.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
_LISTENING = re.compile(rb"Uvicorn running on http://127\.0\.0\.1:(\d+)")
_CREDENTIAL = re.compile(r"^\s+\S+\s+(\S+@\S+)\s+password: (\S+)\s*$", re.MULTILINE)
# Variables of the test process that must not leak into the server's environment.
_SERVER_VARIABLES = (
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "REDIS_URL",
    "REDIS_URL_FILE",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "CONFIDE_DATA_DIR",
    "CONFIDE_REDIS_PREFIX",
)


@dataclass
class Server:
    data_dir: Path
    env: dict[str, str]
    admin_database_url: str | None = None
    database_name: str | None = None
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    credentials: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def confide(self, *args: str) -> str:
        """Runs a management command (as ``confide`` does) in the server's environment and
        returns its output."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"confide {' '.join(args)} failed:\n{result.stderr[-4000:]}")
        return result.stdout

    def start(self) -> None:
        self.confide("migrate", "--noinput")
        self.credentials = dict(_CREDENTIAL.findall(self.confide("seed_demo")))
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "portal.cli", "serve"],
                cwd=ROOT,
                env={**self.env, "CONFIDE_HOST": "127.0.0.1", "CONFIDE_PORT": "0"},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.port = self._wait_for_port()
        self._wait_for_health()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.database_name and self.admin_database_url:
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.admin_database_url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database_name)
                    )
                )
        prefix = self.env.get("CONFIDE_REDIS_PREFIX")
        redis_url = self.env.get("REDIS_URL")
        if prefix and redis_url:
            import redis

            client = redis.Redis.from_url(redis_url)
            try:
                keys = list(client.scan_iter(match=f"{prefix}*", count=500))
                if keys:
                    client.delete(*keys)
            finally:
                client.close()

    def database_dump(self) -> bytes:
        """Everything the database holds, as bytes to search: ``pg_dump`` of the test
        database, or the SQLite file with its write-ahead log."""
        if self.database_name:
            result = subprocess.run(
                ["pg_dump", "--no-owner", "--data-only", self.env["DATABASE_URL"]],
                capture_output=True,
                timeout=120,
                check=True,
            )
            return result.stdout
        parts = []
        for suffix in ("", "-wal", "-journal"):
            path = self.data_dir / f"confide.sqlite3{suffix}"
            if path.exists():
                parts.append(path.read_bytes())
        return b"".join(parts)

    def execute(self, statement: str, *params: object) -> None:
        """Runs one SQL statement on the server's database, as an operator (or a
        compromised server) could; ``?`` marks each parameter (UUIDs and aware datetimes
        are stored as Django stores them). Much faster than a ``confide shell``."""
        if self.database_name:
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as connection:
                connection.execute(statement.replace("?", "%s"), params)
            return
        import sqlite3

        connection = sqlite3.connect(self.data_dir / "confide.sqlite3", timeout=10)
        try:
            with connection:
                connection.execute(statement, [_as_django_stores_it(p) for p in params])
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace")

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log_path.read_bytes())
            if found:
                return int(found.group(1))
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"The server did not start:\n{self.log()[-4000:]}")

    def _wait_for_health(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2, trust_env=False).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"/healthz did not answer:\n{self.log()[-4000:]}")


def make_server(data_dir: Path, settings: dict[str, str] | None = None) -> Server:
    """A server on the stack the environment names (see the module docstring), with
    ``settings`` (``CONFIDE_*`` variables) on top."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in _SERVER_VARIABLES}
    env.update(
        CONFIDE_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="portal.settings",
        PYTHONUNBUFFERED="1",
        **(settings or {}),
    )
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not (database_url and redis_url):
        return Server(data_dir, env)
    import psycopg
    from psycopg import sql

    suffix = secrets.token_hex(6)
    name = f"confide_browser_{suffix}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    given_key = os.environ.get("SECRET_KEY", "")
    env.update(
        DATABASE_URL=_with_database(database_url, name),
        REDIS_URL=redis_url,
        CONFIDE_REDIS_PREFIX=f"confide_browser_{suffix}",
        SECRET_KEY=given_key if len(given_key) >= 50 else secrets.token_urlsafe(64),
        # The browser speaks plain HTTP to 127.0.0.1: cookies cannot be Secure-only.
        CONFIDE_SECURE_COOKIES="false",
    )
    return Server(data_dir, env, admin_database_url=database_url, database_name=name)


def _as_django_stores_it(value: object) -> object:
    """Django keeps UUIDs as 32 hex digits and times as naive UTC text in SQLite."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
