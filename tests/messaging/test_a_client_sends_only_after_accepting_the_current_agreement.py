"""A client's ``send`` and ``rekey`` are refused with ``agreement_required``, before anything
is queued or stored, until they have accepted their practice's current messaging agreement
(DESIGN.md section 6); the first send after accepting is taken on the same socket. The
check costs no query per message, and therapists are never asked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import Client

from accounts.agreement import DEFAULT_TEXTS, publish_agreement, sections_json
from accounts.models import AgreementVersion
from crypto import ConversationKey
from messaging.models import KeyEnvelope, Message
from messaging.services import agreements
from tests.conftest import clear_cache
from tests.messaging.conftest import Connect, Socket
from tests.messaging.test_rekey import current_epoch, rekey_frame
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Person, Practice5, make_practice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def world(transactional_db: None) -> Practice5:
    """The personas before their clients accepted the agreement (the default, 2025-1)."""
    clear_cache()
    world: Practice5 = await database_sync_to_async(make_practice)(agreed=False)
    return world


async def accept(person: Person, version: str = "2025-1") -> None:
    """Accepts through the HTTP API, as a browser does (another connection than the
    socket's, as it would be another request, or another process)."""

    def post() -> tuple[int, bytes]:
        client = Client()
        client.force_login(person.user)
        body = json.dumps({"version": version})
        response = client.post("/api/agreement", body, content_type="application/json")
        return response.status_code, response.content

    status, content = await sync_to_async(post)()
    assert status == 200, content


async def send(socket: Socket, world: Practice5, text: str) -> dict[str, Any]:
    message_id, wire = world.chat.seal(socket.person, text)
    return await socket.request(send_frame(world.chat.id, message_id, wire))


async def stored() -> int:
    count: int = await database_sync_to_async(Message.objects.count)()
    return count


async def test_a_send_before_accepting_is_refused_and_nothing_is_stored(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    theo = await connect(world.therapist)

    reply = await send(clara, world, "Hello?")

    assert reply["type"] == "error"
    assert reply["code"] == "agreement_required"
    assert reply["ref"] == "r1"
    assert await stored() == 0
    assert await theo.nothing()


async def test_the_first_send_after_accepting_is_taken_on_the_same_socket(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    message_id, wire = world.chat.seal(world.client, "Hello, after reading it")
    frame = send_frame(world.chat.id, message_id, wire)
    assert (await clara.request(frame))["code"] == "agreement_required"

    await accept(world.client)
    ack = await clara.request(frame)

    assert ack["type"] == "ack", ack
    assert (ack["seq"], ack["duplicate"]) == (1, False)
    assert await stored() == 1


async def test_a_rekey_before_accepting_is_refused_and_the_epoch_stays(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)

    reply = await clara.request(rekey_frame(world, world.client, ConversationKey.generate()))

    assert reply["code"] == "agreement_required"
    assert await current_epoch(world) == 0
    assert await database_sync_to_async(KeyEnvelope.objects.filter(epoch=1).count)() == 0


async def test_reading_and_syncing_need_no_agreement(world: Practice5, connect: Connect) -> None:
    clara = await connect(world.client)

    reply = await clara.request({"type": "sync", "after": {str(world.chat.id): 0}})

    assert reply["type"] == "sync"


async def test_a_therapist_is_never_asked(world: Practice5, connect: Connect) -> None:
    theo = await connect(world.therapist)

    ack = await send(theo, world, "Welcome. Write whenever you need to.")
    rekeyed = await theo.request(rekey_frame(world, world.therapist, ConversationKey.generate()))

    assert ack["type"] == "ack", ack
    assert rekeyed["type"] == "rekey_ok", rekeyed


async def test_a_version_published_while_connected_is_asked_for_before_the_next_send(
    world: Practice5, connect: Connect
) -> None:
    await accept(world.client)
    clara = await connect(world.client)
    oscar = await connect(world.other_client)
    assert (await send(clara, world, "Under 2025-1"))["type"] == "ack"

    await database_sync_to_async(publish_agreement)(
        world.practice, "2026-1", DEFAULT_TEXTS["2025-1"]
    )
    await asyncio.sleep(0.05)  # the event reaches the sockets after the commit

    assert (await send(clara, world, "Under 2026-1?"))["code"] == "agreement_required"
    await accept(world.client, "2026-1")
    assert (await send(clara, world, "Under 2026-1"))["type"] == "ack"
    assert await stored() == 2
    # The event is for the sockets only: no frame reaches a client about it.
    assert await oscar.nothing()


async def test_an_accepted_client_sends_without_asking_the_database_each_time(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    ask = agreements._has_accepted_current

    async def counting(user_id: int, practice_id: int) -> bool:
        asked.append(user_id)
        return await ask(user_id, practice_id)

    monkeypatch.setattr(agreements, "_has_accepted_current", counting)
    await accept(world.client)
    clara = await connect(world.client)
    assert asked == [], "a connect reads nothing: most sockets of a reconnect storm never send"

    for n in range(5):
        assert (await send(clara, world, f"message {n}"))["type"] == "ack"

    assert asked == [world.client.id], "once, at the first send"


async def test_a_version_no_event_announced_is_asked_for_within_the_recheck_interval(
    world: Practice5, connect: Connect, settings: Any
) -> None:
    """As when another program publishes on the embedded default's process-local layer:
    the version is in the database, and no socket is told."""
    settings.CONFIDE_SESSION_RECHECK_SECONDS = 0.5
    await accept(world.client)
    clara = await connect(world.client)
    assert (await send(clara, world, "Under 2025-1"))["type"] == "ack"

    await database_sync_to_async(AgreementVersion.objects.create)(
        practice=world.practice, version="2026-2", sections=sections_json(DEFAULT_TEXTS["2025-1"])
    )
    assert (await send(clara, world, "Within the interval"))["type"] == "ack"
    await asyncio.sleep(0.6)
    assert (await send(clara, world, "After it"))["code"] == "agreement_required"
    await accept(world.client, "2026-2")
    assert (await send(clara, world, "Accepted"))["type"] == "ack"
    assert await stored() == 3
