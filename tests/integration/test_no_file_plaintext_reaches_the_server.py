"""The canary, for files: a client sends a file whose bytes hold unique canary patterns (at
its start, across a chunk boundary, across a part boundary and at its end) under a unique
name, with a unique caption; the therapist saves it byte for byte. Then the server's
attachments folder, its database (pg_dump, or the SQLite file and its SQL dump), the Redis
traffic it made (a ``MONITOR`` capture running throughout) and its logs are searched for
every pattern, the name, the caption and the file's key, in every spelling
(``tests/integration/canary.py``): none may be there.

Each scan is also shown to find what IS there (the stored stream's own bytes on disk, the
attachment's id in the database), so an empty capture cannot pass for a clean one.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.integration.canary import leaks
from tests.integration.helpers import messages_from
from tests.integration.test_no_plaintext_or_key_reaches_the_server import _start_monitor
from tests.personas import LivePersona, demo_therapist, invite_client

OpenClient = Callable[..., Awaitable[ConfideClient]]

CHUNK = 65536
PART = 1024 * 1024


@dataclass
class Sent:
    conversation: uuid.UUID
    attachment_id: uuid.UUID
    stream_size: int
    secrets: dict[str, bytes | str]


def _canary_file(folder: Path) -> tuple[Path, bytes, dict[str, bytes | str]]:
    """A file of 1.3 MB of random bytes with a canary pattern at each place a chunk or a
    part could cut it, under a unique name."""
    data = bytearray(os.urandom(PART + 300_000))
    patterns: dict[str, bytes | str] = {}
    for where, offset in (
        ("start", 0),
        ("chunk boundary", CHUNK - 16),
        ("part boundary", PART - 600),
        ("end", len(data) - 32),
    ):
        pattern = b"CANARYFILE-" + uuid.uuid4().hex.encode()[:21]
        data[offset : offset + len(pattern)] = pattern
        patterns[f"pattern at the {where}"] = pattern
    name = f"canary-{uuid.uuid4().hex}.pdf"
    path = folder / name
    path.write_bytes(bytes(data))
    patterns["file name"] = name
    return path, bytes(data), patterns


async def _send_and_save(
    url: str, therapist_persona: LivePersona, open_client: OpenClient, tmp: Path
) -> Sent:
    client_persona, conversation = await invite_client(url, therapist_persona)
    therapist = await open_client(url, therapist_persona, backfill=False)
    client = await open_client(url, client_persona, backfill=False)
    await therapist.connect()
    await client.connect()
    assert client.account is not None

    outbox, saved_to = tmp / "to-send", tmp / "saved"
    outbox.mkdir()
    saved_to.mkdir()
    path, data, secrets = _canary_file(outbox)
    caption = f"CANARY-CAPTION-{uuid.uuid4().hex}"
    await client.send_files(conversation, [path], caption)
    [message] = await messages_from(therapist, client.account.id, 1, timeout=30)
    assert message.text == caption
    [reference] = message.attachments
    saved = await therapist.save_attachment(reference, saved_to)
    assert saved.read_bytes() == data
    secrets |= {"caption": caption, "file key": reference.key}
    return Sent(conversation, reference.attachment_id, reference.stream_size, secrets)


def _stored_files(stack: Stack, sent: Sent) -> bytes:
    """Every file of the server's attachments folder; this file's stream among them, whole."""
    folder = stack.data_dir / "attachments"
    own = sorted((folder / str(sent.attachment_id)).iterdir(), key=lambda part: int(part.name))
    assert [part.name for part in own] == ["0", "1"]
    assert sum(part.stat().st_size for part in own) == sent.stream_size
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    return b"".join(path.read_bytes() for path in files)


def _logs(stack: Stack) -> bytes:
    return b"".join(server.log() for server in stack.servers)


def _server_of(stack: Stack) -> LiveServer:
    return stack.servers[0] if stack.servers else stack.start_server()


async def test_a_file_leaves_no_plaintext_in_the_folder_the_sqlite_file_or_the_logs(
    embedded_stack: Stack, open_client: OpenClient, tmp_path: Path
) -> None:
    server = _server_of(embedded_stack)
    sent = await _send_and_save(server.url, demo_therapist(embedded_stack), open_client, tmp_path)

    stored = _stored_files(embedded_stack, sent)
    path = embedded_stack.sqlite_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as database:
        dump = "\n".join(database.iterdump()).encode("utf-8")
    raw_files = b"".join(
        candidate.read_bytes()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
        if candidate.exists()
    )
    logs = _logs(embedded_stack)

    for haystack in (stored, dump, raw_files, logs):
        assert leaks(haystack, sent.secrets) == []
    assert leaks(dump, {"attachment": sent.attachment_id.hex}) == ["attachment"]
    assert leaks(logs, {"attachment": str(sent.attachment_id)}) == ["attachment"]


async def test_a_file_leaves_no_plaintext_in_the_folder_postgres_redis_or_the_logs(
    production_stack: Stack, open_client: OpenClient, tmp_path: Path
) -> None:
    assert production_stack.redis_url is not None and production_stack.database_url is not None
    server = _server_of(production_stack)
    capture = tmp_path / "redis-monitor.txt"
    monitor = _start_monitor(production_stack.redis_url, capture)
    try:
        sent = await _send_and_save(
            server.url, demo_therapist(production_stack), open_client, tmp_path
        )
        await asyncio.sleep(0.2)  # the capture writes what it saw
    finally:
        monitor.terminate()
        monitor.wait(timeout=10)
    stored = _stored_files(production_stack, sent)
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--dbname", production_stack.database_url],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    traffic = capture.read_bytes()
    logs = _logs(production_stack)

    for haystack in (stored, dump, traffic, logs):
        assert leaks(haystack, sent.secrets) == []
    assert leaks(dump, {"attachment": str(sent.attachment_id)}) == ["attachment"]
    assert leaks(traffic, {"conversation": str(sent.conversation)}) == ["conversation"]
