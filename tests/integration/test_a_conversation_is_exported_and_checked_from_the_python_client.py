"""A client and their therapist export their conversation from the Python client against
a real server: each file verifies, names the messages as written, and is readable by its
owner only; ``confide-chat verify-export`` accepts it and refuses it with one byte
changed, naming the message."""

from __future__ import annotations

import stat
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from confide_client import ConfideClient
from crypto import BindingError, b64encode
from harness.servers import LiveServer
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parents[2]


async def test_both_members_export_and_a_changed_byte_is_refused(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    client = await open_client(server.url, client_persona)
    therapist = await open_client(server.url, personas.therapist)
    await client.connect()
    await therapist.connect()
    await client.send_text(conversation, "I keep thinking about <what you said> & why.")
    await therapist.send_text(conversation, "Let's start there on Thursday.")
    await client.send_text(conversation, "Okay.\nSee you then.")

    path = tmp_path / "clara.html"
    made = await client.export_conversation(conversation, path)

    assert [m.seq for m in made.messages] == [1, 2, 3]
    assert [m.sender for m in made.messages] == ["client", "therapist", "client"]
    assert made.messages[0].text == "I keep thinking about <what you said> & why."
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert therapist.verify_export(path).exporter == "client"
    theirs = await therapist.export_conversation(conversation, tmp_path / "theo.html")
    assert theirs.exporter == "therapist"
    assert [m.text for m in theirs.messages] == [m.text for m in made.messages]

    changed = tmp_path / "changed.html"
    changed.write_bytes(path.read_bytes().replace(b"on Thursday", b"on Thursdax"))
    with pytest.raises(BindingError, match="message 2 was changed"):
        therapist.verify_export(changed)

    fingerprint = b64encode(client.identity.public.fingerprint())
    command = [sys.executable, "-m", "confide_client.cli", "verify-export"]
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    args = ["--fingerprint", fingerprint, "--state", str(state)]
    good = subprocess.run(
        [*command, str(path), *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert good.returncode == 0, good.stderr
    bad = subprocess.run(
        [*command, str(changed), *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert bad.returncode == 6
    assert "message 2 was changed" in bad.stderr
