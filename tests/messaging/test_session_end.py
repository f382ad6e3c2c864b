"""Sign-out closes that session's sockets; deactivation closes all of the user's."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from messaging.services.events import end_sessions
from protocol.errors import CloseCode
from tests.messaging.conftest import Connect
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = {"type": "websocket.close", "code": CloseCode.SESSION_ENDED}


async def test_signing_out_one_session_closes_only_its_sockets(
    world: Practice5, connect: Connect
) -> None:
    laptop = await connect(world.client)
    phone = await connect(world.client)
    laptop_session = laptop.session_key
    await end_sessions(world.client.id, laptop_session)
    assert await laptop.communicator.receive_output() == CLOSED
    assert (await phone.request({"type": "ping"}))["type"] == "pong"


async def test_deactivating_an_account_closes_all_its_sockets(
    world: Practice5, connect: Connect
) -> None:
    laptop = await connect(world.client)
    phone = await connect(world.client)
    theo = await connect(world.therapist)

    def deactivate() -> None:
        user = world.client.user
        user.is_active = False
        user.save()

    await database_sync_to_async(deactivate)()
    assert await laptop.communicator.receive_output(timeout=2) == CLOSED
    assert await phone.communicator.receive_output(timeout=2) == CLOSED
    assert (await theo.request({"type": "ping"}))["type"] == "pong"


async def test_a_socket_whose_session_was_deleted_closes_at_its_next_check(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The close event may be lost; the socket's own session check still ends it."""
    from messaging.services import sessions

    clara = await connect(world.client)
    session_key = clara.session_key

    def delete_session() -> None:
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key=session_key).delete()

    await database_sync_to_async(delete_session)()
    monkeypatch.setattr(sessions, "SESSION_RECHECK_SECONDS", 0.0)
    await clara.send({"type": "ping"})
    assert await clara.communicator.receive_output() == CLOSED
