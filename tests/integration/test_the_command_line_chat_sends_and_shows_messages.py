"""``confide-chat`` with its input from a pipe (as a script would drive it) signs in with the
password on its first line, shows the recent messages of the conversation decrypted, and
sends what is typed."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from confide_client import ConfideClient
from confide_client.identities import IdentityFile
from harness.servers import ROOT, LiveServer
from tests.integration.helpers import messages_from
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]


async def test_the_chat_shows_history_and_sends_typed_lines(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[Any, Any]]],
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist)
    await therapist.connect()
    await therapist.send_text(conversation, "Welcome to the portal.")

    typed = f"{client_persona.password}\nHello from the terminal\n/quit\n"
    state = tmp_path / "state"
    chat = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "confide_client.cli",
        "--url",
        server.url,
        "--email",
        client_persona.email,
        "--state",
        str(state),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        output, errors = await asyncio.wait_for(chat.communicate(typed.encode()), 60)
    finally:
        if chat.returncode is None:
            chat.kill()
            await chat.wait()
    shown = output.decode()
    assert chat.returncode == 0, errors.decode()
    assert "Dr. Dana Demo: Welcome to the portal." in shown
    assert client_persona.password not in shown + errors.decode()

    (heard,) = await messages_from(therapist, client_persona.user_id, 1)
    assert heard.text == "Hello from the terminal"

    # The therapist's identity is remembered for the next run, in a private file.
    assert therapist.account is not None
    assert stat.S_IMODE((state / "seen-identities.json").stat().st_mode) == 0o600
    assert (
        IdentityFile(state / "seen-identities.json").seen(
            f"{server.url.rstrip('/')} {client_persona.user_id}", therapist.account.id
        )
        == therapist.account.identity
    )
