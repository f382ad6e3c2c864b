"""A backup restored into a fresh database serves the conversations again, and the clients
that hold what the backup lacks say so and send their own again: nothing is lost, nothing is
shown twice, nothing is silently renumbered.

The routine of docs/operations.md, "Backups": ``confide backup``, then (the server lost)
``createdb`` and ``confide restore`` into the new database, and the servers started on it.
Between the backup and the loss, both members wrote, and the therapist began a new epoch;
the restored server has neither. Both clients stay open throughout, as a browser tab or a
running chat would, and reconnect to the restored server.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from confide_client import ConfideClient, ReceivedMessage, ServerRestored
from harness.servers import LiveServer, Stack, drop_production_stack, make_production_stack
from tests.conftest import require_service
from tests.integration.helpers import event_of, messages_from
from tests.personas import demo_therapist, invite_client

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
async def lost_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """A production stack of this test's own: its database is the one that is lost."""
    admin = require_service("DATABASE_URL", "PostgreSQL")
    redis = require_service("REDIS_URL", "Redis")
    stack = make_production_stack(tmp_path / "lost", admin, redis)
    yield stack
    drop_production_stack(stack, admin)


def restored_stack(lost: Stack, tmp_path: Path) -> Stack:
    """A new, empty database on the same server, with the lost one's settings."""
    name = f"confide_restored_{secrets.token_hex(6)}"
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = str(lost.database_url).rsplit("/", 1)[0] + f"/{name}"
    (tmp_path / "restored").mkdir()
    return Stack("production", tmp_path / "restored", {**lost.env, "DATABASE_URL": url}, name)


async def drain(client: ConfideClient, at_least: int = 0) -> list[ReceivedMessage]:
    """Every message the client delivers until none comes for a second."""
    found = [await client.next_message(10) for _ in range(at_least)]
    while True:
        try:
            found.append(await client.next_message(1.0))
        except TimeoutError:
            return found


def stored(stack: Stack, conversation: uuid.UUID) -> list[tuple[int, uuid.UUID]]:
    with psycopg.connect(str(stack.database_url), autocommit=True) as db:
        rows = db.execute(
            "SELECT seq, client_message_id FROM messaging_message "
            "WHERE conversation_id = %s ORDER BY seq",
            (conversation,),
        ).fetchall()
    return [(seq, uuid.UUID(str(cid))) for seq, cid in rows]


async def test_a_restore_loses_nothing_the_clients_held(
    lost_stack: Stack, tmp_path: Path, open_client: OpenClient
) -> None:
    lost_server = lost_stack.start_server()
    port = lost_server.port
    therapist_persona = demo_therapist(lost_stack)
    client_persona, conversation = await invite_client(lost_server.url, therapist_persona)
    therapist = await open_client(lost_server.url, therapist_persona)
    client = await open_client(lost_server.url, client_persona)
    await therapist.connect()
    await client.connect()
    assert therapist.account is not None and client.account is not None

    await client.send_text(conversation, "before the backup, from the client")
    await therapist.send_text(conversation, "before the backup, from the therapist")
    await messages_from(therapist, client.account.id, 1)
    await messages_from(client, therapist.account.id, 1)

    backup = Path(lost_stack.manage("backup", "--dir", str(tmp_path / "backups")).strip())
    assert backup.name.endswith(".dump") and backup.stat().st_mode & 0o077 == 0

    lost_ids = [
        await client.queue_text(conversation, "after the backup 1, client"),
        await client.queue_text(conversation, "after the backup 2, client"),
    ]
    await messages_from(therapist, client.account.id, 2)
    new_epoch = await therapist.rekey(conversation)
    lost_ids.append(await therapist.queue_text(conversation, "after the backup 3, therapist"))
    await messages_from(client, therapist.account.id, 1)
    assert [cid for _, cid in stored(lost_stack, conversation)][2:] == lost_ids
    await drain(client)
    await drain(therapist)

    # The database is lost; the operator restores last night's backup into a new one.
    lost_server.stop()
    restored = restored_stack(lost_stack, tmp_path)
    try:
        out = restored.manage("restore", str(backup))
        assert "database generation" in out
        if restored.database_name:
            # The database's own settings are not in its dump: the restore sets them again.
            assert restored.query_one("SHOW jit") == "off"
        assert len(stored(restored, conversation)) == 2
        server: LiveServer = restored.start_server({"CONFIDE_PORT": str(port)})
        assert server.port == port

        told_client = await event_of(client, ServerRestored, timeout=30)
        told_therapist = await event_of(therapist, ServerRestored, timeout=30)
        assert (told_client.restored_at, told_client.held_up_to) == (2, 5)
        assert (told_therapist.restored_at, told_therapist.held_up_to) == (2, 5)
        assert list(told_client.resent) == lost_ids[:2]
        assert list(told_therapist.resent) == lost_ids[2:]
        assert told_client.generation is not None and told_client.not_resent == 0

        # Each lost message is stored again once, under its own id, after the two kept.
        async def all_back() -> None:
            while len(stored(restored, conversation)) < 5:
                await asyncio.sleep(0.1)

        await asyncio.wait_for(all_back(), 30)
        back = stored(restored, conversation)
        assert [seq for seq, _ in back] == [1, 2, 3, 4, 5]
        assert sorted(cid for _, cid in back[2:]) == sorted(lost_ids)

        # The lost epoch is not written in again: what was sealed in it went under a new key.
        listed = await therapist.conversation(conversation)
        assert listed.current_epoch >= new_epoch

        # Nothing is shown twice; the conversation goes on.
        await client.send_text(conversation, "after the restore")
        assert [(m.seq, m.text) for m in await drain(therapist, 1)] == [(6, "after the restore")]
        assert [(m.seq, m.text) for m in await drain(client, 1)] == [(6, "after the restore")]
        assert therapist.stats.replays >= 2 and client.stats.replays >= 1
    finally:
        drop_production_stack(restored, os.environ["DATABASE_URL"])
