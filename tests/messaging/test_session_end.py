"""Sign-out closes that session's sockets; deactivation closes all of the user's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
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


@override_settings(CONFIDE_SESSION_RECHECK_SECONDS=0.2)
async def test_a_socket_whose_session_was_deleted_closes_at_the_next_check(
    world: Practice5, connect: Connect
) -> None:
    """No event says so; the process's session watch ends the socket, though it sends
    nothing."""
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    session_key = clara.session_key

    def delete_session() -> None:
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key=session_key).delete()

    await database_sync_to_async(delete_session)()
    assert await clara.communicator.receive_output(timeout=2) == CLOSED
    assert (await theo.request({"type": "ping"}))["type"] == "pong"


@override_settings(CONFIDE_SESSION_RECHECK_SECONDS=0.2)
async def test_a_socket_whose_session_expired_closes_at_the_next_check(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    session_key = clara.session_key

    def expire_session() -> None:
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key=session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )

    await database_sync_to_async(expire_session)()
    assert await clara.communicator.receive_output(timeout=2) == CLOSED


@override_settings(CONFIDE_SESSION_RECHECK_SECONDS=0.2)
async def test_a_deactivation_whose_event_was_lost_still_closes_every_socket(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    from messaging.services import events

    lost: list[int] = []
    monkeypatch.setattr(
        events, "end_sessions_from_sync", lambda user_id, key=None: lost.append(user_id)
    )
    laptop = await connect(world.client)
    phone = await connect(world.client)

    def deactivate() -> None:
        User.objects.filter(pk=world.client.id).update(is_active=False)

    await database_sync_to_async(deactivate)()
    assert lost == [world.client.id]
    assert await laptop.communicator.receive_output(timeout=2) == CLOSED
    assert await phone.communicator.receive_output(timeout=2) == CLOSED
