"""The canary: after real conversations, nothing the server stored, passed through Redis or
logged contains a message's plaintext, a password, or any private or conversation key.

The conversation carries unique canary strings and the passwords themselves as message
text. Then the database is dumped (pg_dump, or the SQLite file and its SQL dump), Redis
traffic is read from a ``MONITOR`` capture that ran throughout, and the Daphne logs are
read; every secret is looked for in every spelling (``tests/integration/canary.py``). The
authentication secret is left out: the protocol sends it to the server by design.

Each scan is also shown to find what IS there (an email, a conversation id, a log line),
so an empty capture cannot pass for a clean one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from confide_client import ConfideClient, ReceivedMessage
from confide_client.wire import parse_kdf
from crypto import DEFAULT_KDF_PARAMS, RecoveryKey, derive_password_keys
from harness.servers import LiveServer, Stack, new_email, new_password
from protocol.http import KdfBody
from tests.integration.canary import leaks
from tests.integration.helpers import messages_from, messages_until
from tests.personas import LivePersona, accept_agreement_live, demo_therapist

OpenClient = Callable[..., Awaitable[ConfideClient]]


@dataclass
class Conversation:
    id: uuid.UUID
    client_email: str
    secrets: dict[str, bytes | str]


async def _kek(url: str, email: str, password: str) -> bytes:
    """The client's key-encryption key, derived here as the client derives it."""
    async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
        token = (await http.get("/api/csrf")).json()["csrf_token"]
        answer = await http.post(
            "/api/auth/params", json={"email": email}, headers={"X-CSRFToken": token}
        )
    salt, params = parse_kdf(KdfBody.model_validate_json(answer.content), DEFAULT_KDF_PARAMS)
    keys = await asyncio.to_thread(derive_password_keys, password, salt, params)
    return keys.kek._secret_material()


async def _converse(
    url: str, therapist_persona: LivePersona, open_client: OpenClient
) -> Conversation:
    """A new client is invited, both talk across two epochs, and a second device restores
    the history; returns every secret that took part."""
    therapist = await open_client(url, therapist_persona)
    invitation = await therapist.create_invitation("Canary")
    email, password = new_email("client"), new_password()
    client = await open_client(url)
    sign_up = await client.accept_invitation(invitation.fragment, email, "Canary", password)
    conversation = sign_up.conversation
    # The new client accepts the practice's messaging agreement before the first message.
    persona = LivePersona(email, password, sign_up.account.id, "client")
    await accept_agreement_live(url, persona)
    await therapist.connect()
    await client.connect()
    assert client.account is not None and therapist.account is not None

    canaries = [f"CANARY-{uuid.uuid4().hex}" for _ in range(4)]
    texts = [
        f"{canaries[0]} my password is {password}",
        f"{canaries[1]} and mine is {therapist_persona.password}",
        canaries[2],
        canaries[3],
    ]
    await client.send_text(conversation, texts[0])
    await therapist.send_text(conversation, texts[1])
    assert await therapist.rekey(conversation) == 1
    await client.send_text(conversation, texts[2])
    await therapist.send_text(conversation, texts[3])
    heard = await messages_from(therapist, client.account.id, 2)
    assert [m.text for m in heard] == [texts[0], texts[2]]

    second = await open_client(url)
    await second.sign_in(email, password)
    await second.connect()
    restored: list[ReceivedMessage] = await messages_until(second, 4)
    assert [m.text for m in restored] == texts

    # Secret material, read from the client objects to know what to look for.
    secrets: dict[str, bytes | str] = {f"canary {n}": c for n, c in enumerate(canaries)}
    secrets.update(
        {
            "client password": password,
            "therapist password": therapist_persona.password,
            "recovery key (as shown)": sign_up.recovery_key,
            "recovery key": RecoveryKey.from_display(sign_up.recovery_key)._secret_material(),
            "epoch 0 key": client.conversation_key(conversation, 0)._secret_material(),
            "epoch 1 key": second.conversation_key(conversation, 1)._secret_material(),
            "client private identity": client.identity._secret_material(),
            "therapist private identity": therapist.identity._secret_material(),
            "client key-encryption key": await _kek(url, email, password),
        }
    )
    return Conversation(conversation, email, secrets)


def _server_of(stack: Stack) -> LiveServer:
    return stack.servers[0] if stack.servers else stack.start_server()


def _logs(stack: Stack) -> bytes:
    return b"".join(server.log() for server in stack.servers)


async def test_the_sqlite_file_and_the_logs_hold_no_plaintext_and_no_key(
    embedded_stack: Stack, open_client: OpenClient
) -> None:
    server = _server_of(embedded_stack)
    therapist = demo_therapist(embedded_stack)
    talk = await _converse(server.url, therapist, open_client)

    path = embedded_stack.sqlite_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as database:
        dump = "\n".join(database.iterdump()).encode("utf-8")
    raw_files = b"".join(
        candidate.read_bytes()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
        if candidate.exists()
    )
    logs = _logs(embedded_stack)

    assert leaks(dump, talk.secrets) == []
    assert leaks(raw_files, talk.secrets) == []
    assert leaks(logs, talk.secrets) == []
    # The same scans find what is there.
    present = {"email": talk.client_email, "conversation": talk.id.hex}
    assert leaks(dump, present) == ["conversation", "email"]
    assert leaks(raw_files, present) == ["conversation", "email"]
    accepted = {"websocket log line": "websocket /ws open"}
    assert leaks(logs, accepted) == ["websocket log line"]


def _start_monitor(redis_url: str, capture: Path) -> subprocess.Popen[bytes]:
    with capture.open("wb") as out:
        monitor = subprocess.Popen(
            ["redis-cli", "-u", redis_url, "MONITOR"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 10
    while b"OK" not in capture.read_bytes():
        if monitor.poll() is not None or time.monotonic() > deadline:
            monitor.kill()
            raise RuntimeError(f"redis-cli MONITOR did not start: {capture.read_bytes()!r}")
        time.sleep(0.02)
    return monitor


async def test_postgres_redis_and_the_logs_hold_no_plaintext_and_no_key(
    production_stack: Stack, open_client: OpenClient, tmp_path: Path
) -> None:
    assert production_stack.redis_url is not None and production_stack.database_url is not None
    server = _server_of(production_stack)
    therapist = demo_therapist(production_stack)
    capture = tmp_path / "redis-monitor.txt"
    monitor = _start_monitor(production_stack.redis_url, capture)
    try:
        talk = await _converse(server.url, therapist, open_client)
        await asyncio.sleep(0.2)  # the capture writes what it saw
    finally:
        monitor.terminate()
        monitor.wait(timeout=10)
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--dbname", production_stack.database_url],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    traffic = capture.read_bytes()
    logs = _logs(production_stack)

    assert leaks(dump, talk.secrets) == []
    assert leaks(traffic, talk.secrets) == []
    assert leaks(logs, talk.secrets) == []
    # The same scans find what is there: the dump holds the account and the conversation,
    # and the messages' events crossed Redis naming the conversation.
    present = {"email": talk.client_email, "conversation": str(talk.id)}
    assert leaks(dump, present) == ["conversation", "email"]
    assert leaks(traffic, {"conversation": str(talk.id)}) == ["conversation"]
    accepted = {"websocket log line": "websocket /ws open"}
    assert leaks(logs, accepted) == ["websocket log line"]
