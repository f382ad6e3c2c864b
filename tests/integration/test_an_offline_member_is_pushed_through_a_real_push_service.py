"""Web Push end to end, against real server processes and a push service process on
127.0.0.1 that checks the VAPID signature and decrypts the RFC 8291 payload: a member with
no live socket gets one push per subscribed browser, and one online gets none; no payload
carries message text, a name or the practice; a subscription the push service says is gone
(410) is dropped; one answered 429 or 500 is tried again until it gets through, while
messages go on being stored at once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from messaging.vapid import generate_private_key
from protocol.http import NotificationSettings
from tests.integration.canary import notice_leaks
from tests.integration.push import PushService, server_key, subscribe, subscriptions
from tests.personas import LivePersona, LivePersonas, invite_client

OpenClient = Callable[..., Awaitable[ConfideClient]]
StartServers = Callable[..., list[LiveServer]]

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def notifier(stack: Stack, live_servers: StartServers) -> LiveServer:
    """A server with a job worker that notifies a second after a message. Production
    reads its VAPID key from the environment; the embedded default makes its own."""
    env = {
        "CONFIDE_WORKER": "true",
        "CONFIDE_NOTIFY_AFTER_SECONDS": "1",
        "CONFIDE_NOTIFY_RETRY_SECONDS": "1",
        "CONFIDE_WORKER_INTERVAL_SECONDS": "0.2",
        "CONFIDE_PUSH_ALLOW_HTTP": "true",
    }
    if stack.database_url:
        env["CONFIDE_VAPID_PRIVATE_KEY"] = generate_private_key()
    [server] = live_servers(1, stack, env)
    return server


@pytest.fixture
def push_service(tmp_path: Path) -> Iterator[Callable[[str], PushService]]:
    started: list[PushService] = []

    def start(key: str) -> PushService:
        service = PushService.start(tmp_path / "push", key)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


async def subscribed_client(
    url: str,
    personas: LivePersonas,
    open_client: OpenClient,
    service: PushService | None,
    start: Callable[[str], PushService],
) -> tuple[LivePersona, uuid.UUID, ConfideClient, PushService, str]:
    """A new client of the demo therapist, signed in (no socket) with one browser
    subscribed at the push service (started on first use, with the portal's key)."""
    persona, conversation = await invite_client(url, personas.therapist)
    browser = await open_client(url, persona)
    if service is None:
        service = start(await server_key(browser))
    name = uuid.uuid4().hex
    await subscribe(browser, service.new_subscription(name))
    return persona, conversation, browser, service, name


async def therapist_writes(
    open_client: OpenClient, url: str, personas: LivePersonas, conversation: uuid.UUID, text: str
) -> None:
    therapist = await open_client(url, personas.therapist, backfill=False)
    await therapist.connect()
    await therapist.send_text(conversation, text)
    await therapist.close()


def assert_says_nothing(record: dict[str, Any], *texts: str) -> None:
    """A notice verified and decrypted by the push service, which says only that a secure
    message waits, and passes the canary scan of every notification (emails too)."""
    assert "error" not in record, record.get("error")
    assert json.loads(record["payload"]) == {"v": 1, "type": "message_waiting"}
    assert notice_leaks(json.dumps(record).encode(), *texts) == []
    assert record["topic"] == "message-waiting"


async def test_one_push_to_an_offline_client_and_none_to_an_online_one(
    notifier: LiveServer,
    personas: LivePersonas,
    push_service: Callable[[str], PushService],
    open_client: OpenClient,
) -> None:
    url = notifier.url
    _, away_chat, _, service, away = await subscribed_client(
        url, personas, open_client, None, push_service
    )
    _, here_chat, here_browser, _, here = await subscribed_client(
        url, personas, open_client, service, push_service
    )
    await here_browser.connect()

    first = f"I'm feeling really anxious tonight {uuid.uuid4().hex[:8]}"
    await therapist_writes(open_client, url, personas, away_chat, first)
    await therapist_writes(open_client, url, personas, here_chat, first)
    await therapist_writes(open_client, url, personas, away_chat, "and again")

    [notice] = await asyncio.to_thread(service.wait_for, away, 1)
    assert notice["status"] == 201
    assert notice["claims"]["aud"] == service.origin
    assert notice["ttl"] > 0
    assert_says_nothing(notice, first, "and again")
    await asyncio.sleep(3)
    assert len(service.received(away)) == 1, "one per conversation until read"
    assert service.received(here) == [], "none to someone online"


async def test_a_gone_subscription_is_dropped(
    notifier: LiveServer,
    personas: LivePersonas,
    push_service: Callable[[str], PushService],
    open_client: OpenClient,
) -> None:
    _, chat, browser, service, name = await subscribed_client(
        notifier.url, personas, open_client, None, push_service
    )
    service.answer_next(name, 410)

    await therapist_writes(open_client, notifier.url, personas, chat, "to a browser long gone")

    [notice] = await asyncio.to_thread(service.wait_for, name, 1)
    assert notice["status"] == 410
    deadline = time.monotonic() + 10
    while await subscriptions(browser) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert await subscriptions(browser) == 0
    await asyncio.sleep(3)
    assert len(service.received(name)) == 1, "never tried again"


@pytest.mark.parametrize("emails", [False, True], ids=["push alone", "push beside email"])
async def test_a_busy_push_service_is_tried_again_and_holds_nothing_up(
    notifier: LiveServer,
    personas: LivePersonas,
    push_service: Callable[[str], PushService],
    open_client: OpenClient,
    emails: bool,
) -> None:
    _, chat, browser, service, name = await subscribed_client(
        notifier.url, personas, open_client, None, push_service
    )
    if not emails:
        await browser._http.post(
            "/api/me/notifications", NotificationSettings(email=False), NotificationSettings
        )
    service.answer_next(name, 429, 500)

    therapist = await open_client(notifier.url, personas.therapist, backfill=False)
    await therapist.connect()
    started = time.monotonic()
    for number in range(5):
        await therapist.send_text(chat, f"stored at once {number}")
    assert time.monotonic() - started < 5, "no message waits for a push"
    await therapist.close()

    notices = await asyncio.to_thread(service.wait_for, name, 3, 60)
    assert [n["status"] for n in notices] == [429, 500, 201]
    assert notices[2]["at"] - notices[0]["at"] >= 2, "after a growing pause"
    for notice in notices:
        assert_says_nothing(notice, "stored at once")
    await asyncio.sleep(3)
    assert len(service.received(name)) == 3
