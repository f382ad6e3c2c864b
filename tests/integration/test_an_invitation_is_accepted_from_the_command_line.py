"""A client accepts their therapist's invitation link with ``confide-chat --accept``: the
keys are made on their machine, the recovery key is shown once and confirmed, the
practice's messaging agreement is shown and accepted before anything is sent, and then
they message their therapist. A therapist makes, lists and revokes invitations from the
chat too."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from confide_client import ConfideClient
from harness.servers import LiveServer
from tests.integration.terminal import Terminal
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(120)

RECOVERY = re.compile(r"^\s{4}((?:[A-Z2-7]{4} ){13}[A-Z2-7]{4})$", re.MULTILINE)


async def test_a_client_accepts_an_invitation_link_and_writes_after_the_agreement(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    invitation = await therapist.create_invitation("Robin")
    link = server.url + invitation.path

    chat = Terminal(["--accept", link, "--state", str(tmp_path / "confide")], tmp_path)
    terminals.append(chat)
    await chat.shows("invites you to message them securely")
    await chat.shows("Your email address:")
    chat.enter(f"robin-{invitation.id}@client.invalid")
    await chat.shows("Your name [Robin]:")
    chat.enter("")
    await chat.shows("Choose a password")
    chat.enter("short")
    await chat.shows("That is shorter than 10 characters.")
    chat.enter("a long enough passphrase")
    await chat.shows("The same password again:")
    chat.enter("a long enough passphrase")
    await chat.shows("type its last group:")
    await chat.shows("Your recovery key, shown this once.")
    found = await chat.matches(RECOVERY)
    groups = found.group(1).split()
    chat.enter("AAAA" if groups[-1] != "AAAA" else "BBBB")
    await chat.shows("That is not its last group")
    chat.enter(groups[-1].lower())
    await chat.shows("Your account is made and you are signed in.")

    # The agreement comes before any message, and nothing goes without it.
    await chat.shows("The practice's messaging agreement")
    await chat.shows("NOT FOR EMERGENCIES")
    await chat.shows("Type 'accept' to accept it")
    chat.enter("accept")
    await chat.shows("Type /help for the commands.")
    chat.enter("Hello, this is Robin.")
    await chat.shows("✓ sent")

    heard = await therapist.next_message(15)
    assert heard.text == "Hello, this is Robin."
    assert heard.conversation == invitation.conversation


async def test_a_therapist_makes_lists_and_revokes_invitations_in_the_chat(
    server: LiveServer, personas: LivePersonas, tmp_path: Path, terminals: list[Terminal]
) -> None:
    therapist = personas.therapist
    chat = Terminal(
        ["--url", server.url, "--email", therapist.email, "--state", str(tmp_path / "c")],
        tmp_path,
    )
    terminals.append(chat)
    await chat.shows("Password for")
    chat.enter(therapist.password)
    await chat.shows("Type /help for the commands.")

    chat.enter("/invite Sam Example")
    await chat.shows("for Sam Example, until")
    number = re.search(r"Invitation (\d+) for Sam Example", chat.text())
    assert number is not None
    assert f"{server.url}/invite#" in chat.text()

    chat.enter("/invitations")
    await chat.shows(f"{number.group(1):>4}  pending")
    chat.enter(f"/revoke {number.group(1)}")
    await chat.shows(f"Invitation {number.group(1)} for Sam Example: revoked.")
