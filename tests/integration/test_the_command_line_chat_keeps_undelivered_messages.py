"""``confide-chat`` in a terminal, against a server that goes away: the status line says
so and says when it is back, and a message written while the server is down, followed by
Ctrl-C, is kept on disk (the chat says so) and delivered exactly once at the next start."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.integration.helpers import nothing_more
from tests.integration.terminal import Terminal, signed_in_chat
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
StartServers = Callable[..., list[LiveServer]]

pytestmark = pytest.mark.timeout(120)


async def test_the_status_line_follows_the_server_down_and_back(
    stack: Stack,
    live_servers: StartServers,
    personas: LivePersonas,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, Any]]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    (server,) = live_servers(1, stack)
    client, _ = await new_pair(server.url)
    chat = await signed_in_chat(server.url, client, tmp_path, terminals)
    await chat.shows("● connected")
    assert "● connected" in chat.bottom()

    server.stop()
    await chat.shows("○ reconnecting")
    (back,) = live_servers(1, stack, {"CONFIDE_PORT": str(server.port)})
    assert back.port == server.port
    await until_bottom(chat, "● connected")


async def until_bottom(chat: Terminal, text: str, timeout: float = 30.0) -> None:
    """Waits until the status line (the last line drawn) shows ``text``."""
    deadline = time.monotonic() + timeout
    while text not in chat.bottom():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not in the status line: {chat.bottom()!r}")
        await asyncio.sleep(0.1)


async def test_ctrl_c_with_the_server_down_keeps_the_message_for_the_next_start(
    stack: Stack,
    live_servers: StartServers,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, Any]]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    (server,) = live_servers(1, stack)
    client, conversation = await new_pair(server.url)
    chat = await signed_in_chat(server.url, client, tmp_path, terminals)

    server.stop()
    await chat.shows("○ reconnecting")
    chat.enter("Written while the portal was down")
    await chat.shows("you: Written while the portal was down")
    chat.interrupt()
    await chat.shows("1 message(s) not yet delivered: kept in")
    assert await chat.exit_code() == 130
    outbox = list((tmp_path / "confide" / "outbox").glob("*.json"))
    assert len(outbox) == 1
    assert "Written while the portal was down" not in outbox[0].read_text()

    (back,) = live_servers(1, stack, {"CONFIDE_PORT": str(server.port)})
    again = await signed_in_chat(back.url, client, tmp_path, terminals)
    await again.shows("✓ sent")

    therapist = await open_client(back.url, personas.therapist, backfill=False)
    await therapist.connect()
    history = await therapist.history(conversation)
    texts = [m.text for m in history.messages]
    assert texts.count("Written while the portal was down") == 1
    # Nothing goes twice, though the chat starts once more from the same state folder.
    again.enter("/quit")
    assert await again.exit_code() == 0
    assert "not yet delivered" not in again.text()
    third = await signed_in_chat(back.url, client, tmp_path, terminals)
    await third.shows("● connected")
    assert await nothing_more(therapist, within=1.0)
    history = await therapist.history(conversation)
    assert [m.text for m in history.messages].count("Written while the portal was down") == 1
