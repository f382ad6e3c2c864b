"""Real servers for the tests and the benchmark: a database (a stack) and server processes on it.

A stack is either the embedded default (a SQLite file in a temporary CONFIDE_DATA_DIR, the
in-memory channel layer) or the production one (a fresh PostgreSQL database made for this
test session on the server named by DATABASE_URL, and Redis from REDIS_URL under a key
prefix of its own). Every process a stack starts is stopped, and the database dropped, when
the stack is torn down.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0
# What `confide serve` logs once it listens, with uvicorn or with Daphne (portal/serving.py),
# and Daphne's own line (bench/loadgen.py's comparison).
_LISTENING = re.compile(
    rb"(?:Uvicorn running on http://|Daphne serving on http://|Listening on TCP address )"
    rb"127\.0\.0\.1:(\d+)"
)
# Variables of the test process that must not reach a server of another stack.
_STACK_VARIABLES = (
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "REDIS_URL",
    "REDIS_URL_FILE",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "CONFIDE_DATA_DIR",
    "CONFIDE_REDIS_PREFIX",
)

StackKind = Literal["embedded", "production"]


@dataclass
class LiveServer:
    """One server process (``confide serve``) listening on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> bytes:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_bytes()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Stack:
    """A database (and Redis, in production) shared by the servers started on it."""

    kind: StackKind
    data_dir: Path
    env: dict[str, str]
    database_name: str | None = None
    servers: list[LiveServer] = field(default_factory=list)
    # Settings of every server started from now on (``CONFIDE_SERVER``, say), under the
    # test's own ``extra_env``.
    server_env: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str | None:
        return self.env.get("DATABASE_URL")

    @property
    def redis_url(self) -> str | None:
        return self.env.get("REDIS_URL")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "confide.sqlite3"

    def manage(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Runs a management command (or ``-m module``) with this stack's environment."""
        command = (
            [sys.executable, *args]
            if args[0] == "-m"
            else [
                sys.executable,
                str(ROOT / "manage.py"),
                *args,
            ]
        )
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
            )
        return result.stdout

    def start_server(
        self,
        extra_env: dict[str, str] | None = None,
        command: list[str] | None = None,
        cwd: Path | None = None,
    ) -> LiveServer:
        """Starts ``confide serve`` on a free port and returns once ``/healthz`` answers;
        from ``cwd`` (another version's source tree, for an upgrade) when given."""
        index = len(self.servers)
        log_path = self.data_dir / f"server-{index}.log"
        env = {
            **self.env,
            "CONFIDE_HOST": "127.0.0.1",
            "CONFIDE_PORT": "0",
            # One process per server unless a test asks for more: a test that kills a
            # server kills all of it.
            "CONFIDE_SERVER_PROCESSES": "1",
            **self.server_env,
            **(extra_env or {}),
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command or [sys.executable, "-m", "portal.cli", "serve"],
                cwd=cwd or ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = LiveServer(process, 0, log_path)
        self.servers.append(server)
        server.port = _wait_for_port(server)
        _wait_for_health(server)
        return server

    def stop_servers(self) -> None:
        for server in self.servers:
            server.stop()

    def database_dump(self) -> bytes:
        """Everything the database holds, as bytes to search: ``pg_dump`` of the stack's
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
        """Runs one SQL statement on the stack's database, as an operator (or a
        compromised server) could; ``?`` marks each parameter (UUIDs and aware datetimes
        are stored as Django stores them). Much faster than a ``confide shell``."""
        if self.database_name:
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as connection:
                connection.execute(statement.replace("?", "%s"), params)
            return
        database = sqlite3.connect(self.sqlite_path, timeout=10)
        try:
            with database:
                database.execute(statement, [_as_django_stores_it(p) for p in params])
        finally:
            database.close()

    def query_one(self, statement: str, *params: object) -> Any:
        """The first column of the one row a query answers, read as ``execute`` writes."""
        if self.database_name:
            import psycopg

            with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as connection:
                (row,) = connection.execute(statement.replace("?", "%s"), params).fetchall()
            return row[0]
        database = sqlite3.connect(self.sqlite_path, timeout=10)
        try:
            (row,) = database.execute(
                statement, [_as_django_stores_it(p) for p in params]
            ).fetchall()
        finally:
            database.close()
        return row[0]


def _wait_for_port(server: LiveServer) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = _LISTENING.search(server.log())
        if found:
            return int(found.group(1))
        if server.process.poll() is not None:
            break
        time.sleep(0.05)
    server.stop()
    log = server.log()[-4000:].decode(errors="replace")
    raise RuntimeError(f"The server did not start:\n{log}")


def _wait_for_health(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.process.poll() is not None:
            break
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"/healthz did not answer:\n{server.log()[-4000:].decode(errors='replace')}")


def _as_django_stores_it(value: object) -> object:
    """Django keeps UUIDs as 32 hex digits and times as naive UTC text in SQLite."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value


def make_stack(data_dir: Path, settings: dict[str, str] | None = None) -> Stack:
    """The stack the environment names, as the server's settings choose: production when
    DATABASE_URL and REDIS_URL are set (as in CI), the embedded default otherwise; with
    ``settings`` (``CONFIDE_*`` variables) for every process it runs."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if database_url and redis_url:
        return make_production_stack(data_dir, database_url, redis_url, settings)
    return make_embedded_stack(data_dir, settings)


def drop_stack(stack: Stack) -> None:
    """Stops the stack's servers and, for a production stack, drops its database."""
    if stack.kind == "production":
        drop_production_stack(stack, os.environ["DATABASE_URL"])
    else:
        stack.stop_servers()


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STACK_VARIABLES}
    env["CONFIDE_DATA_DIR"] = str(data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    # Logs reach the file as they are written, so a test reads all of them.
    env["PYTHONUNBUFFERED"] = "1"
    # No job worker unless a test asks for one (CONFIDE_WORKER=true): servers of one stack
    # would otherwise run each other's jobs, with each other's settings.
    env["CONFIDE_WORKER"] = "false"
    return env


def make_embedded_stack(data_dir: Path, settings: dict[str, str] | None = None) -> Stack:
    """A SQLite file in ``data_dir``, migrated."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack("embedded", data_dir, {**_base_env(data_dir), **(settings or {})})
    stack.manage("migrate", "--noinput")
    return stack


def make_production_stack(
    data_dir: Path,
    database_url: str,
    redis_url: str,
    settings: dict[str, str] | None = None,
    *,
    migrate: bool = True,
) -> Stack:
    """A new PostgreSQL database and a Redis key prefix of this test session, migrated
    (unless ``migrate`` is false: an upgrade test migrates it with another version)."""
    import psycopg
    from psycopg import sql

    data_dir.mkdir(parents=True, exist_ok=True)
    suffix = secrets.token_hex(6)
    name = f"confide_it_{suffix}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = _base_env(data_dir)
    env.update(
        DATABASE_URL=_with_database(database_url, name),
        REDIS_URL=redis_url,
        CONFIDE_REDIS_PREFIX=f"confide_it_{suffix}",
        SECRET_KEY=_secret_key(),
        # The tests speak plain HTTP to 127.0.0.1: cookies cannot be Secure-only, and
        # nothing is redirected to https.
        CONFIDE_SECURE_COOKIES="false",
        CONFIDE_SSL_REDIRECT="false",
    )
    env.update(settings or {})
    stack = Stack("production", data_dir, env, database_name=name)
    if not migrate:
        return stack
    try:
        stack.manage("migrate", "--noinput")
    except Exception:
        drop_production_stack(stack, database_url)
        raise
    return stack


def drop_production_stack(stack: Stack, admin_url: str) -> None:
    """Drops the stack's database and deletes its Redis keys."""
    import psycopg
    import redis
    from psycopg import sql

    stack.stop_servers()
    if stack.database_name is not None:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(stack.database_name)
                )
            )
    prefix = stack.env.get("CONFIDE_REDIS_PREFIX")
    # A Sentinel set (redis+sentinel://) is a private one of a fault test, thrown away whole.
    if stack.redis_url and prefix and stack.redis_url.startswith("redis://"):
        client = redis.Redis.from_url(stack.redis_url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _secret_key() -> str:
    given = os.environ.get("SECRET_KEY", "")
    return given if len(given) >= 50 else secrets.token_urlsafe(64)


def new_email(role: str) -> str:
    """A fresh address for an account made on a stack (``role`` makes logs readable)."""
    return f"{role}-{secrets.token_hex(6)}@example.invalid"


def new_password() -> str:
    return secrets.token_urlsafe(16)
