"""PostgreSQL and Redis of the fault tests' own, on free ports of 127.0.0.1 (and an
S3-compatible object store, for the attachments' s3 storage).

The fault tests kill, stop and restart these; the services named by DATABASE_URL and
REDIS_URL are never touched. Both restart on the port they had, so the Daphne processes
pointed at them find them again once they are back.

* Redis: ``redis-server`` without persistence, killed with SIGKILL (everything it held is
  lost: channel-layer queues, group memberships, cached socket leases).
* Redis Sentinel: a primary, its replica and one sentinel (``PrivateSentinelSet``); the
  primary is killed and the sentinel promotes the replica.
* PostgreSQL: a cluster made with ``initdb`` in a temporary directory, run with ``pg_ctl``
  (as the ``postgres`` user when the tests run as root, since PostgreSQL refuses root) and
  stopped with ``pg_ctl stop -m immediate``: every server process exits at once, as in a
  crash, and the restart runs crash recovery. ``fsync`` is off to keep the tests fast; a
  crash of the PostgreSQL processes (not of the machine) loses nothing written with it off.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

START_TIMEOUT = 30.0
_POSTGRES_USER = "postgres"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, and SIGKILL if it has not ended 10 s later; nothing if it already ended."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _wait_for_port(
    process: subprocess.Popen[bytes], port: int, what: str, log: Path, stop: Callable[[], None]
) -> None:
    """Returns once ``port`` accepts; if ``process`` ends or START_TIMEOUT passes first,
    ``stop`` and a RuntimeError with the end of ``log``."""
    deadline = time.monotonic() + START_TIMEOUT
    while not _accepts(port):
        if process.poll() is not None or time.monotonic() > deadline:
            said = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            stop()
            raise RuntimeError(f"{what} did not start on port {port}: {said}")
        time.sleep(0.05)


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's programs (``initdb``, ``pg_ctl``), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> tuple[int, ...]:
    number = Path(path).parts[-3]
    return tuple(int(part) for part in number.split(".") if part.isdigit())


def missing_programs() -> list[str]:
    """What the private services need and this machine lacks."""
    missing = [] if shutil.which("redis-server") else ["redis-server"]
    if postgres_bin_dir() is None:
        missing.append("PostgreSQL's initdb and pg_ctl (/usr/lib/postgresql/*/bin)")
    elif os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser (PostgreSQL must not run as root)")
    return missing


class PrivateRedis:
    """One ``redis-server`` on a free port, without persistence."""

    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.extra_args = extra_args
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Starts it (on the same port as before) and returns once it answers PING."""
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "redis.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                    *self.extra_args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        import redis

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running:
                break
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: gone at once, with everything it held."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


class PrivateSentinelSet:
    """A Redis primary, its replica, and one sentinel watching them (quorum 1) that fails
    the primary over to the replica about a second after it stops answering.

    ``url`` is the ``redis+sentinel://`` URL of the set (messaging/redis_clients.py)."""

    SERVICE = "confide"
    DOWN_AFTER_MS = 1000

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.primary = PrivateRedis(workdir / "primary")
        self.replica = PrivateRedis(
            workdir / "replica", ("--replicaof", "127.0.0.1", str(self.primary.port))
        )
        self.sentinel_port = free_port()
        self.sentinel: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{self.SERVICE}/0"

    def start(self) -> None:
        """Starts the three and returns once the sentinel knows the replica (it can then
        fail over)."""
        self.primary.start()
        self.replica.start()
        directory = self.workdir / "sentinel"
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "sentinel.conf"
        config.write_text(
            f"port {self.sentinel_port}\n"
            "bind 127.0.0.1\n"
            f"dir {directory}\n"
            f"sentinel monitor {self.SERVICE} 127.0.0.1 {self.primary.port} 1\n"
            f"sentinel down-after-milliseconds {self.SERVICE} {self.DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {self.SERVICE} 10000\n"
            f"sentinel parallel-syncs {self.SERVICE} 1\n"
        )
        log_path = directory / "sentinel.log"
        with log_path.open("ab") as log:
            self.sentinel = subprocess.Popen(
                ["redis-server", str(config), "--sentinel"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_for_port(self.sentinel, self.sentinel_port, "redis sentinel", log_path, self.stop)
        self._wait(lambda: self._ask("SENTINEL", "REPLICAS", self.SERVICE), "to know the replica")

    def primary_port(self) -> int:
        """The port of the primary, as the sentinel says now."""
        _, port = self._ask("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.SERVICE)
        return int(port)

    def wait_for_failover(self) -> None:
        """Returns once the sentinel names the replica as the primary."""
        self._wait(lambda: self.primary_port() == self.replica.port, "to fail over")

    def stop(self) -> None:
        stop_process(self.sentinel)
        self.replica.kill()
        self.primary.kill()

    def _ask(self, *command: str) -> Any:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.sentinel_port, socket_timeout=2)
        try:
            return client.execute_command(*command)  # type: ignore[no-untyped-call]
        finally:
            client.close()

    def _wait(self, done: Callable[[], object], what: str) -> None:
        import redis

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if done():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the sentinel on port {self.sentinel_port} did not come {what}")


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port."""

    def __init__(self) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL's programs are not installed")
        self.bin_dir = bin_dir
        self.port = free_port()
        # Not under pytest's temporary directory: the postgres user must be able to reach it.
        self.root = Path(tempfile.mkdtemp(prefix="confide-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            account = pwd.getpwnam(_POSTGRES_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.starts = 0

    @property
    def admin_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", _POSTGRES_USER, "--", *command]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({result.returncode}):\n{result.stdout[-2000:]}"
                f"{result.stderr[-2000:]}"
            )

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )

    def start(self) -> None:
        """Starts the cluster (crash recovery first, after an immediate stop) and returns
        once it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=50"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "30",
            "-o", options, "start",
        )  # fmt: skip
        self.starts += 1

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: every server process quits at once, without a checkpoint; open
        connections are cut and transactions in flight are lost, as in a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists() and _accepts(self.port)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            if (self.data / "postmaster.pid").exists():
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivatePgBouncer:
    """PgBouncer on a free port in transaction mode, in front of a PostgreSQL on
    127.0.0.1 (every database name passes through, trust authentication): a server
    connection is a client's only for one transaction. Runs as the postgres user when
    this is root (PgBouncer refuses to run as root)."""

    def __init__(self, postgres_port: int) -> None:
        self.postgres_port = postgres_port
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="confide-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        (self.root / "users.txt").write_text('"postgres" ""\n')
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={self.postgres_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.root / 'users.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 10\n"
            # Several server connections, taken in turn: consecutive transactions of one
            # client run on different ones, as under load.
            "min_pool_size = 4\nserver_round_robin = 1\n"
            f"logfile = {self.root / 'pgbouncer.log'}\n"
        )
        command = ["pgbouncer", str(self.root / "pgbouncer.ini")]
        if self._as_postgres:
            account = pwd.getpwnam(_POSTGRES_USER)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)
            command = ["runuser", "-u", _POSTGRES_USER, "--", *command]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_port(self.process, self.port, "pgbouncer", self.root / "pgbouncer.log", self.stop)

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateS3:
    """An S3-compatible object store of the tests' own: moto's server on a free port of
    127.0.0.1, in memory (what it holds goes with it). Any access key is accepted."""

    REGION = "us-east-1"
    ACCESS_KEY = "test-access-key"
    SECRET_KEY = "test-secret-key"  # noqa: S105 (moto accepts any)

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # Installed beside the interpreter running the tests (requirements-test.lock).
        program = Path(sys.executable).parent / "moto_server"
        if not program.exists():
            program = Path(shutil.which("moto_server") or "moto_server")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "s3.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(program), "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_for_port(self.process, self.port, "moto_server", self.workdir / "s3.log", self.stop)

    def stop(self) -> None:
        stop_process(self.process)
