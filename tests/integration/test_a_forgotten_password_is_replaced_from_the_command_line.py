"""A client who forgot their password sets a new one with ``confide-chat --recover`` and
the recovery key shown at sign-up: a mistyped key is said at once and asked for again, the
history is there (decrypted with the same identity), the client's other session is ended,
the therapist gets the next message with no key-change warning, and the new password
signs in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from confide_client import ConfideClient, PeerKeyChanged, SessionEndedError
from harness.servers import LiveServer
from tests.integration.terminal import Terminal
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(120)

NEW_PASSWORD = "a brand new passphrase"


def mistyped(display: str) -> str:
    return display[:10] + ("B" if display[10] != "B" else "C") + display[11:]


async def test_a_client_replaces_a_forgotten_password_with_the_recovery_key(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    invitation = await therapist.create_invitation("Robin")
    laptop = await open_client(server.url, backfill=False)
    email = f"robin-recovers-{invitation.id}@client.invalid"
    signed_up = await laptop.accept_invitation(
        invitation.fragment, email, "Robin", "the old password"
    )
    await laptop.accept_agreement((await laptop.agreement()).version)
    await laptop.connect()
    await laptop.send_text(invitation.conversation, "Written before I forgot.")
    assert (await therapist.next_message(15)).text == "Written before I forgot."

    chat = Terminal(
        ["--url", server.url, "--recover", email, "--state", str(tmp_path / "c")], tmp_path
    )
    terminals.append(chat)
    await chat.shows("Your recovery key (dashes and spaces do not matter):")
    chat.enter(mistyped(signed_up.recovery_key))
    await chat.shows("the key was probably mistyped")
    chat.enter(signed_up.recovery_key.lower().replace("-", " "))
    await chat.shows("Choose a new password")
    chat.enter(NEW_PASSWORD)
    await chat.shows("The same password again:")
    chat.enter(NEW_PASSWORD)
    await chat.shows("Your new password is set, Robin, and you are signed in.")
    await chat.shows("Type /help for the commands.")
    # The history is there, opened with the same identity.
    await chat.shows("Written before I forgot.")

    # The session of the other device has ended.
    for _ in range(100):
        if laptop.ended is not None:
            break
        await asyncio.sleep(0.1)
    assert isinstance(laptop.ended, SessionEndedError)

    chat.enter("Written after recovering.")
    await chat.shows("✓ sent")
    heard = await therapist.next_message(15)
    assert heard.text == "Written after recovering."
    assert heard.conversation == invitation.conversation
    warnings = []
    while not therapist.events.empty():
        event = therapist.events.get_nowait()
        if isinstance(event, PeerKeyChanged):
            warnings.append(event)
    assert warnings == [], "the therapist sees no key change"

    again = await open_client(server.url, backfill=False)
    account = await again.sign_in(email, NEW_PASSWORD)
    assert account.identity == signed_up.account.identity
