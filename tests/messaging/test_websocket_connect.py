"""Who may open a socket, and what they are told when they do."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from tests.messaging.conftest import Connect, communicator
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_signed_in_member_gets_ready_with_the_limits(
    world: Practice5, connect: Connect
) -> None:
    socket = await connect(world.client)
    assert socket.ready["user"] == world.client.id
    assert socket.ready["limits"] == {
        "max_frame_bytes": 262144,
        "message_rate": 20,
        "message_burst": 40,
        "history_page": 100,
        "max_sockets": 10,
    }


async def test_a_signed_out_socket_is_closed_with_4401(world: Practice5) -> None:
    comm = communicator(cookie=None)
    connected, _ = await comm.connect()
    assert connected
    assert await comm.receive_output() == {"type": "websocket.close", "code": 4401}
    await comm.disconnect()


async def test_a_forged_session_cookie_is_closed_with_4401(world: Practice5) -> None:
    comm = communicator(cookie="not-a-session")
    await comm.connect()
    assert await comm.receive_output() == {"type": "websocket.close", "code": 4401}
    await comm.disconnect()


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", None])
async def test_a_wrong_or_missing_origin_is_refused_at_the_handshake(
    world: Practice5, origin: bytes | None
) -> None:
    cookie = await database_sync_to_async(world.client.session_cookie)()
    comm = communicator(cookie, origin=origin)
    connected, _ = await comm.connect()
    assert not connected
    await comm.disconnect()


@override_settings(CONFIDE_MAX_SOCKETS_PER_USER=2)
async def test_a_user_over_the_socket_limit_is_closed_with_4008(
    world: Practice5, connect: Connect
) -> None:
    await connect(world.client)
    await connect(world.client)
    cookie = await database_sync_to_async(world.client.session_cookie)()
    comm = communicator(cookie)
    await comm.connect()
    assert await comm.receive_output() == {"type": "websocket.close", "code": 4008}
    await comm.disconnect()
    # Another user is not affected by Clara's sockets.
    other = await connect(world.therapist)
    assert other.ready["type"] == "ready"
