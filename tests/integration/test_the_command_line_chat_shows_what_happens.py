"""``confide-chat`` in a terminal shows what happens without getting in the way: a message
that arrives while something is half typed goes above the input line, which stays whole;
a start shows what is unread and a few messages before it, not the whole history
(``/history`` goes further back); ``/read`` says what it did; a message's control
characters and escape sequences reach the terminal only as visible codes; a server that is not there
is named before any password is asked; a sign-in refused for too many attempts says how
long to wait; ``/quit`` with a message waiting says it is kept and ends at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack, new_email
from protocol.availability import AvailabilitySettings, AwayBody
from tests.integration.terminal import Terminal, signed_in_chat
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
StartServers = Callable[..., list[LiveServer]]

pytestmark = pytest.mark.timeout(120)


async def test_a_message_arriving_while_typing_leaves_the_input_line_whole(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, Any]]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    client, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    chat = await signed_in_chat(server.url, client, tmp_path, terminals)

    chat.type("I was about to s")
    await chat.shows("> I was about to s")
    await therapist.send_text(conversation, "Are you free on Thursday?")
    await chat.shows("Dr. Dana Demo: Are you free on Thursday?")
    # The input line is drawn again below the message: read the screen once it is whole
    # (prompt_toolkit redraws it in steps).
    arrived, typing, lines = -1, -1, chat.lines()
    for _ in range(100):
        lines = chat.lines()
        found = [i for i, line in enumerate(lines) if "Are you free on Thursday?" in line]
        drawn = [i for i, line in enumerate(lines) if line.rstrip() == "> I was about to s"]
        if found and drawn:
            arrived, typing = found[0], drawn[-1]
            break
        await asyncio.sleep(0.05)
    assert 0 <= arrived < typing, f"the message goes above the input line:\n{lines}"
    assert lines[arrived].startswith("20")  # a date, not only a time

    chat.enter("ay: yes, I am.")
    await chat.shows("you: I was about to say: yes, I am.")
    await chat.shows("✓ sent")


async def test_a_message_cannot_command_the_terminal_or_forge_a_line(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, Any]]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    client, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    chat = await signed_in_chat(server.url, client, tmp_path, terminals)

    hostile = (
        "Hello\x1b]0;PWNED\x07\x1b]52;c;Y29weQ==\x07\x1b[2K\r\u202eFAKE"
        "\n2026-01-01 09:00 you: I never wrote this\x9b31m"
    )
    await therapist.send_text(conversation, hostile)
    await chat.shows("Dr. Dana Demo: Hello<U+001B>]0;PWNED<U+0007>")
    transcript = chat.transcript()
    for sequence in ("\x1b]0;", "\x1b]52;", "PWNED\x07", "\u202e", "\x9b"):
        assert sequence not in transcript
    forged = next(line for line in chat.lines() if "I never wrote this" in line)
    assert forged.startswith("    2026-01-01 09:00 you:"), "the message's second line is indented"
    assert "<U+000D><U+202E>F" in chat.text()


async def test_a_start_shows_the_unread_and_a_few_before_them_and_history_goes_back(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, Any]]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    client_persona, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    for n in range(1, 21):
        await therapist.send_text(conversation, f"Note number {n:02d}.")
    reader = await open_client(server.url, client_persona)
    await reader.connect()
    await reader.mark_read(conversation, 15)

    chat = await signed_in_chat(server.url, client_persona, tmp_path, terminals)
    await chat.shows("Note number 20.")
    shown = chat.text()
    assert "5 unread" in shown
    assert "(earlier messages: /history)" in shown
    for n in range(11, 21):
        assert f"Note number {n:02d}." in shown
    for n in range(1, 11):
        assert f"Note number {n:02d}." not in shown

    chat.enter("/history")
    await chat.shows("-- end of earlier messages --")
    for n in range(1, 11):
        assert f"Note number {n:02d}." in chat.text()
    chat.enter("/history")
    await chat.shows("No earlier messages.")

    chat.enter("/read")
    await chat.shows("Marked as read up to message 20.")


async def test_a_server_that_is_not_there_is_named_before_any_password_is_asked(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    chat = Terminal(
        ["--url", "http://127.0.0.1:9", "--email", "x@example.invalid", "--state", str(tmp_path)],
        tmp_path,
    )
    terminals.append(chat)
    await chat.shows("Could not reach http://127.0.0.1:9")
    assert await chat.exit_code() == 69
    assert "Password" not in chat.text()


async def test_a_sign_in_refused_for_too_many_attempts_says_how_long_to_wait(
    stack: Stack, live_servers: StartServers, tmp_path: Path, terminals: list[Terminal]
) -> None:
    limits = {"CONFIDE_SIGNIN_EMAIL_ATTEMPTS": "1", "CONFIDE_SIGNIN_EMAIL_WINDOW_SECONDS": "900"}
    (server,) = live_servers(1, stack, limits)
    email = new_email("client")
    answers = [
        "! The email or password is wrong. (unauthenticated)",
        "! Too many sign-in attempts; try again later. Wait 15 min before trying again. "
        "(rate_limited)",
    ]
    for answer in answers:
        chat = Terminal(["--url", server.url, "--email", email, "--state", str(tmp_path)], tmp_path)
        terminals.append(chat)
        await chat.shows(f"Password for {email} at {server.url}")
        chat.enter("not the password at all")
        await chat.shows(answer)
        assert await chat.exit_code() == 3


async def test_quit_with_a_message_waiting_says_it_is_kept_and_ends_at_once(
    stack: Stack,
    live_servers: StartServers,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, Any]]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    (server,) = live_servers(1, stack)
    client, _ = await new_pair(server.url)
    chat = await signed_in_chat(server.url, client, tmp_path, terminals)
    server.stop()
    await chat.shows("○ reconnecting")
    chat.enter("Still there?")
    await chat.shows("you: Still there?")
    chat.enter("/quit")
    await chat.shows("1 message(s) not yet delivered: kept in")
    assert await chat.exit_code(timeout=5) == 0


async def test_a_client_reads_their_therapists_away_status_before_writing(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, Any]]],
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    client, _ = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    back = (datetime.now(UTC) + timedelta(days=3)).date()
    away = AvailabilitySettings(
        office_hours=[],
        reply_time="Usually within one business day.",
        away=AwayBody(until=back, note="At a training."),
    )
    await therapist.set_availability(away)
    try:
        chat = await signed_in_chat(server.url, client, tmp_path, terminals)
        await chat.shows("Dr. Dana Demo is away until")
        await chat.shows("At a training.")
        await chat.shows("If you need help now, do not wait for a reply:")
        await chat.shows("Usually within one business day. Not for emergencies.")
    finally:
        await therapist.set_availability(AvailabilitySettings(office_hours=[]))
