"""However a socket ends, a crash of the application included, it leaves its group and
gives back its lease: a lease that outlived its socket counted against the user's limit,
and after ten such sockets the account could open none until the server restarted."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings

from messaging.consumers import MessagingConsumer
from tests.messaging.conftest import Connect, communicator
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


class Crash(Exception):
    """Stands for any bug that escapes the consumer."""


@override_settings(CONFIDE_MAX_SOCKETS_PER_USER=1)
async def test_a_socket_whose_application_crashed_gives_back_its_lease(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(self: MessagingConsumer, text_data: str | None = None, **_: object) -> None:
        raise Crash("a bug")

    cookie = await database_sync_to_async(world.client.session_cookie)()
    for _ in range(3):
        comm = communicator(cookie)
        connected, _ = await comm.connect()
        assert connected
        assert (await comm.receive_json_from())["type"] == "ready"
        with monkeypatch.context() as patched:
            patched.setattr(MessagingConsumer, "receive", crash)
            await comm.send_to(text_data='{"type": "ping"}')
            with pytest.raises(Crash):
                await comm.wait(timeout=2)
    # The one place the limit allows is free again.
    clara = await connect(world.client)
    assert (await clara.request({"type": "ping"}))["type"] == "pong"


@override_settings(CONFIDE_MAX_SOCKETS_PER_USER=1)
async def test_deeply_nested_frames_neither_end_the_socket_nor_use_up_the_limit(
    world: Practice5, connect: Connect
) -> None:
    nested = '{"type": "ping", "ref": ' + "[" * 1000 + "]" * 1000 + "}"
    clara = await connect(world.client)
    for _ in range(11):
        await clara.send(nested)
        assert (await clara.receive())["code"] == "bad_frame"
    await clara.communicator.disconnect()
    again = await connect(world.client)
    assert (await again.request({"type": "ping"}))["type"] == "pong"


@override_settings(CONFIDE_MAX_SOCKETS_PER_USER=1)
async def test_a_socket_that_could_not_join_its_group_gives_back_its_lease(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its lease was claimed and then, with joining the user's group failed (Redis lost
    meanwhile), kept and renewed for the rest of the process's life."""
    layer = get_channel_layer()

    async def unreachable(group: str, channel: str) -> None:
        raise ConnectionError("Redis went away")

    cookie = await database_sync_to_async(world.client.session_cookie)()
    with monkeypatch.context() as patched:
        patched.setattr(layer, "group_add", unreachable)
        comm = communicator(cookie)
        with pytest.raises(ConnectionError):
            await comm.connect()
            await comm.wait(timeout=2)
    # The one place the limit allows is free again.
    clara = await connect(world.client)
    assert (await clara.request({"type": "ping"}))["type"] == "pong"
