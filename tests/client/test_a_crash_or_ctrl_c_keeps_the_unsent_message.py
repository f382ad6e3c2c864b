"""A client process killed outright (a crash, SIGKILL) or stopped with Ctrl-C (SIGINT)
while its message waits for the server's ack leaves that message in its state folder, and
the next client with the same folder sends it, same id and same bytes, stored once."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from pathlib import Path

import pytest

from confide_client.state import StateFolder
from tests.client.conftest import PASSWORD, Practice, SignIn
from tests.waiting import until

# The child: signs in, queues one message, says its id, and waits to be stopped.
CHILD = """
import asyncio, sys, uuid
from pathlib import Path
from confide_client import ConfideClient, StateFolder

async def main(url, email, password, folder, conversation):
    async with ConfideClient(url, state=StateFolder(Path(folder)), ack_timeout=60) as client:
        await client.sign_in(email, password)
        await client.connect()
        message_id = await client.queue_text(uuid.UUID(conversation), "Sent just before")
        print(message_id, flush=True)
        await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["crash", "ctrl-c"])
async def test_the_next_client_sends_what_the_stopped_one_had_queued(
    practice: Practice, sign_in: SignIn, tmp_path: Path, stop: signal.Signals
) -> None:
    practice.portal.silent = True
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        practice.url,
        practice.client.email,
        PASSWORD,
        str(tmp_path),
        str(practice.conversation),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 20)
        message_id = uuid.UUID(line.decode().strip())
        await until(lambda: practice.portal.sends, timeout=10)
    finally:
        child.send_signal(stop)
        await asyncio.wait_for(child.wait(), 20)
    practice.portal.silent = False
    assert practice.portal.stored(practice.conversation) == []

    theo = await sign_in(practice.therapist)
    await sign_in(practice.client, state=StateFolder(tmp_path))

    received = await theo.next_message(5)
    assert (received.client_message_id, received.text) == (message_id, "Sent just before")
    first, again = practice.portal.sends
    assert (again.client_message_id, again.ciphertext) == (
        first.client_message_id,
        first.ciphertext,
    )
