"""A client accepts their therapist's invitation link with ``confide-chat --accept``: the
keys are made on their machine, the recovery key is shown once and confirmed, the
practice's messaging agreement is shown and accepted before anything is sent, and then
they message their therapist; a version published during a chat holds their next message
back until they read and accept it (``/agreement``). A therapist makes, lists and revokes
invitations from the chat too."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from accounts.models import Role
from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.authenticator import next_code
from tests.integration.terminal import Terminal, signed_in_chat
from tests.personas import LivePersonas, invite_client, operator_made

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

    # Without the link on the command line, which would keep it in the shell's history and
    # show it in the list of processes: the chat asks for it.
    chat = Terminal(["--accept", "--state", str(tmp_path / "confide")], tmp_path)
    terminals.append(chat)
    await chat.shows("Invitation link:")
    chat.enter(link)
    await chat.shows(f"The portal at {server.url}:")
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
    # A therapist has a second factor: the chat asks for the app's code after the password.
    await chat.shows("Code from your authenticator app")
    assert therapist.totp_secret is not None
    chat.enter(next_code(therapist.totp_secret))
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


PUBLISH = """
from accounts.agreement import DEFAULT_TEXTS, publish_agreement
from accounts.models import Practice
publish_agreement(Practice.objects.get(name={practice!r}), "2026-1", DEFAULT_TEXTS["2025-1"])
"""


async def test_a_new_agreement_published_during_a_chat_is_asked_for_and_then_the_message_goes(
    stack: Stack,
    live_servers: Callable[..., list[LiveServer]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    # A practice of its own, so that no other test's clients are asked again; a server
    # that re-checks each second, so that a version published by another program (the
    # operator's shell here, with no event reaching the server's sockets on the embedded
    # default) is found without waiting 30 s.
    (server,) = live_servers(1, stack, {"CONFIDE_SESSION_RECHECK_SECONDS": "1"})
    practice = f"Hillside {uuid.uuid4().hex[:8]}"
    therapist = operator_made(stack, "other_therapist", Role.THERAPIST, practice)
    client, _ = await invite_client(server.url, therapist)
    chat = await signed_in_chat(server.url, client, tmp_path, terminals)

    stack.manage("shell", "-c", PUBLISH.format(practice=practice))
    await asyncio.sleep(1.2)
    chat.enter("Can we move Thursday?")
    await chat.shows("waiting to be sent (agreement_required): Can we move Thursday?")
    await chat.shows("Your practice published a new messaging agreement.")

    chat.enter("/agreement")
    await chat.shows("The practice's messaging agreement (version 2026-1):")
    await chat.shows("Type 'accept' to accept it, or 'no' to decide later:")
    chat.enter("accept")
    await chat.shows("✓ sent (#1): Can we move Thursday?")
    chat.enter("/agreement")
    await chat.shows("You accepted this version on 20")
