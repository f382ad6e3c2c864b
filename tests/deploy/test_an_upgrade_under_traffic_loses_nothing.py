"""An upgrade of two server processes while people write, as docs/operations.md,
"Upgrades", says to do it: the new version's migrations run while the previous version's
processes serve, then the processes are restarted one at a time on the new version. No
acknowledged message is lost or stored twice, and each member receives every message of
the other once, in order.

The previous version is the commit before the newest one that changed a migration (so the
upgrade always crosses a schema change), taken from this checkout's history with
``git archive`` and run with this checkout's dependencies.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from confide_client import ConfideClient
from harness.servers import ROOT, LiveServer, Stack, drop_production_stack, make_production_stack
from tests.conftest import require_programs, require_service
from tests.integration.helpers import messages_from
from tests.personas import demo_personas, give_passkeys, invite_client

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(240)

# Each member writes one message every this many seconds while the upgrade runs.
PACE_SECONDS = 0.05


def previous_version(into: Path) -> str:
    """The source tree of the commit before the newest migration change, in ``into``."""
    require_programs([] if shutil.which("git") else ["git"])

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()

    newest = git("log", "-1", "--format=%H", "--", "*/migrations/*.py")
    commit = git("rev-parse", f"{newest}~1")
    into.mkdir()
    archive = subprocess.run(
        ["git", "archive", commit], cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=60)
    return commit


def run_version(stack: Stack, tree: Path, *args: str) -> str:
    """``confide <args>`` of the version in ``tree``, on the stack's database."""
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        cwd=tree,
        env={**stack.env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@dataclass
class Writer:
    """One member writing a numbered message every PACE_SECONDS until told to stop."""

    client: ConfideClient
    conversation: uuid.UUID
    name: str
    sent: list[str] = field(default_factory=list)
    slowest_ack: float = 0.0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            text = f"{self.name} {len(self.sent) + 1}"
            started = time.monotonic()
            await self.client.send_text(self.conversation, text, timeout=60)
            self.slowest_ack = max(self.slowest_ack, time.monotonic() - started)
            self.sent.append(text)
            await asyncio.sleep(PACE_SECONDS)


@pytest.fixture
async def fresh_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """A production stack with an empty database: the previous version migrates it."""
    admin = require_service("DATABASE_URL", "PostgreSQL")
    redis = require_service("REDIS_URL", "Redis")
    stack = make_production_stack(tmp_path / "stack", admin, redis, migrate=False)
    yield stack
    drop_production_stack(stack, admin)


async def test_an_upgrade_one_process_at_a_time_loses_and_repeats_nothing(
    fresh_stack: Stack, tmp_path: Path, open_client: OpenClient
) -> None:
    stack = fresh_stack
    old = tmp_path / "previous"
    previous_version(old)
    run_version(stack, old, "migrate", "--noinput")
    therapist_persona = demo_personas(run_version(stack, old, "seed_demo"))["therapist"]
    [therapist_persona] = give_passkeys(stack, [therapist_persona])
    first = stack.start_server(cwd=old, extra_env={"PYTHONPATH": str(old)})
    second = stack.start_server(cwd=old, extra_env={"PYTHONPATH": str(old)})
    client_persona, conversation = await invite_client(first.url, therapist_persona)

    therapist = await open_client(first.url, therapist_persona)
    client = await open_client(second.url, client_persona)
    await therapist.connect()
    await client.connect()
    writers = [Writer(therapist, conversation, "therapist"), Writer(client, conversation, "client")]
    tasks = [asyncio.create_task(w.run()) for w in writers]
    await asyncio.sleep(1.0)

    # 1. The new version's migrations, while the old processes serve.
    await asyncio.to_thread(stack.manage, "migrate", "--noinput")
    await asyncio.sleep(0.5)
    # 2. Each process in turn: stopped, and started again on the new version, same port.
    upgraded: list[LiveServer] = []
    for old_server in (first, second):
        port = old_server.port
        old_server.stop()
        new_server = await asyncio.to_thread(stack.start_server, {"CONFIDE_PORT": str(port)})
        assert new_server.port == port
        upgraded.append(new_server)
        await asyncio.sleep(1.0)

    for writer in writers:
        writer.stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 90)
    for task in tasks:
        task.result()

    therapist_sent, client_sent = writers[0].sent, writers[1].sent
    assert len(therapist_sent) >= 20 and len(client_sent) >= 20
    assert therapist.stats.reconnects >= 1 and client.stats.reconnects >= 1
    assert therapist.account is not None and client.account is not None
    got_by_client = await messages_from(client, therapist.account.id, len(therapist_sent))
    got_by_therapist = await messages_from(therapist, client.account.id, len(client_sent))
    assert [m.text for m in got_by_client] == therapist_sent
    assert [m.text for m in got_by_therapist] == client_sent

    with psycopg.connect(str(stack.database_url), autocommit=True) as db:
        (stored, distinct, top) = db.execute(
            "SELECT count(*), count(DISTINCT client_message_id), max(seq) "
            "FROM messaging_message WHERE conversation_id = %s",
            (conversation,),
        ).fetchone() or (0, 0, 0)
        (generations,) = db.execute("SELECT count(*) FROM messaging_generation").fetchone() or (0,)
    assert stored == distinct == top == len(therapist_sent) + len(client_sent)
    # An upgrade is not a restore: the database keeps one generation, begun by whichever
    # version first served it (the old one, or the first new process when the old one
    # predates generations), and the second new process takes it.
    assert generations == 1
    assert b"database generation" not in upgraded[1].log()
    print(
        f"upgrade under traffic: {stored} messages, slowest ack "
        f"{max(w.slowest_ack for w in writers):.2f} s",
        file=sys.stderr,
    )
