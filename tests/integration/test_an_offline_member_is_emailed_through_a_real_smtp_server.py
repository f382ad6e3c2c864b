"""Email notifications end to end, against real server processes and a real SMTP server
process on 127.0.0.1: a member with no live socket gets one email, and one online gets
none; the email carries no message text, no name and no practice; a job survives a server
restart between the message and the email; two server processes with a worker each send
one email, not two; an SMTP server that refuses, or is not there, is tried again later
while messages go on being stored at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from email.message import Message
from pathlib import Path

import pytest

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.integration.canary import notice_leaks
from tests.integration.smtp import SmtpServer, free_port
from tests.personas import LivePersona, LivePersonas, invite_client

OpenClient = Callable[..., Awaitable[ConfideClient]]
StartServers = Callable[..., list[LiveServer]]

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def smtp_servers(tmp_path: Path) -> Iterator[Callable[..., SmtpServer]]:
    started: list[SmtpServer] = []

    def start(refuse: int = 0, port: int | None = None) -> SmtpServer:
        server = SmtpServer.start(tmp_path / f"smtp-{len(started)}", refuse=refuse, port=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def worker_env(smtp: SmtpServer, after_seconds: int = 1) -> dict[str, str]:
    return {**smtp.settings(after_seconds), "CONFIDE_WORKER": "true"}


async def fresh_client(url: str, personas: LivePersonas) -> tuple[LivePersona, uuid.UUID]:
    """A client of the demo therapist, new to this test (no email sent to them before)."""
    return await invite_client(url, personas.therapist)


async def therapist_writes(
    open_client: OpenClient, url: str, personas: LivePersonas, conversation: uuid.UUID, text: str
) -> None:
    therapist = await open_client(url, personas.therapist, backfill=False)
    await therapist.connect()
    await therapist.send_text(conversation, text)
    await therapist.close()


def assert_says_nothing(email: Message, *texts: str) -> None:
    """The canary scan every notification passes, emails and push payloads alike."""
    whole = email.as_bytes()
    assert notice_leaks(whole, *texts) == [], "in a notification email"
    assert b"secure message" in whole


async def test_one_email_to_an_offline_client_and_none_to_an_online_one(
    stack: Stack,
    server: LiveServer,
    personas: LivePersonas,
    live_servers: StartServers,
    smtp_servers: Callable[..., SmtpServer],
    open_client: OpenClient,
) -> None:
    smtp = smtp_servers()
    [notifier] = live_servers(1, stack, worker_env(smtp))
    away, away_conversation = await fresh_client(notifier.url, personas)
    here, here_conversation = await fresh_client(notifier.url, personas)
    present = await open_client(notifier.url, here, backfill=False)
    await present.connect()

    first = f"Only for the therapist's eyes {uuid.uuid4().hex[:8]}"
    await therapist_writes(open_client, notifier.url, personas, away_conversation, first)
    await therapist_writes(open_client, notifier.url, personas, here_conversation, first)
    await therapist_writes(open_client, notifier.url, personas, away_conversation, "again")

    [email] = await asyncio.to_thread(smtp.wait_for, 1)
    assert email["X-Rcpt"] == away.email
    assert_says_nothing(email, first, "again")
    await asyncio.sleep(3)
    assert len(smtp.messages()) == 1, "one per conversation until read, none to the online"
    assert (await present.next_message(5)).text == first


async def test_a_job_survives_a_restart_and_two_processes_send_one_email(
    stack: Stack,
    server: LiveServer,
    personas: LivePersonas,
    live_servers: StartServers,
    smtp_servers: Callable[..., SmtpServer],
    open_client: OpenClient,
) -> None:
    smtp = smtp_servers()
    # Written while the only server has no worker; the job waits in the database.
    [quiet] = live_servers(1, stack, {**worker_env(smtp, 2), "CONFIDE_WORKER": "false"})
    client, conversation = await fresh_client(quiet.url, personas)
    await therapist_writes(open_client, quiet.url, personas, conversation, "before the restart")
    quiet.stop()
    time.sleep(3)
    assert smtp.messages() == []

    # Two processes with a worker each, and a message through each: one email.
    both = live_servers(2, stack, worker_env(smtp, 2))
    for number, process in enumerate(both):
        await therapist_writes(open_client, process.url, personas, conversation, f"part {number}")

    [email] = await asyncio.to_thread(smtp.wait_for, 1)
    assert email["X-Rcpt"] == client.email
    await asyncio.sleep(4)
    assert len(smtp.messages()) == 1


async def test_a_refusing_or_absent_smtp_server_is_tried_again_and_holds_nothing_up(
    stack: Stack,
    server: LiveServer,
    personas: LivePersonas,
    live_servers: StartServers,
    smtp_servers: Callable[..., SmtpServer],
    open_client: OpenClient,
) -> None:
    port = free_port()
    absent = SmtpServer(None, port, Path("/nonexistent"))  # type: ignore[arg-type]
    [notifier] = live_servers(1, stack, worker_env(absent))
    client, conversation = await fresh_client(notifier.url, personas)

    therapist = await open_client(notifier.url, personas.therapist, backfill=False)
    await therapist.connect()
    started = time.monotonic()
    for number in range(5):
        await therapist.send_text(conversation, f"stored at once {number}")
    assert time.monotonic() - started < 5, "no message waits for email"

    await asyncio.sleep(3)  # tried against the absent server, and retried later
    smtp = smtp_servers(refuse=1, port=port)
    [email] = await asyncio.to_thread(smtp.wait_for, 1, 60)
    assert smtp.refused() == 1
    assert email["X-Rcpt"] == client.email
    assert_says_nothing(email, "stored at once")
