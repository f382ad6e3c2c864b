"""A socket whose events the channel layer may have dropped (it fell behind, or the layer
lost Redis) is closed with 1012 (4012 on Daphne), so that its client reconnects and syncs from the
database; the other sockets go on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.layers import get_channel_layer

from messaging.services import events
from protocol.errors import CloseCode
from tests.messaging.conftest import Connect
from tests.personas import Practice5

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]

CLOSED = {"type": "websocket.close", "code": CloseCode.SERVICE_RESTART}


async def test_a_layer_reset_closes_the_socket_with_1012(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    layer = get_channel_layer()
    await layer.group_send(events.user_group(world.client.id), {"type": "layer.reset"})
    assert await clara.communicator.receive_output(timeout=3) == CLOSED
    assert (await theo.request({"type": "ping"}))["type"] == "pong"


async def test_a_socket_that_falls_behind_is_closed_with_1012_and_its_neighbours_go_on(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    layer = get_channel_layer()
    frame = {"type": "typing", "conversation": str(world.chat.id), "user": world.therapist.id}
    # More events than a socket's queue holds, with no chance to read in between.
    event = {"type": "deliver", "text": json.dumps(frame)}
    for _ in range(layer.capacity + 20):
        await layer.group_send(events.user_group(world.client.id), event)
    await layer.group_send(events.user_group(world.therapist.id), event)

    output = await clara.communicator.receive_output(timeout=3)
    assert output == CLOSED, output  # the events were dropped, not sent late
    assert await theo.receive_type("typing") == frame
    assert (await theo.request({"type": "ping"}))["type"] == "pong"


async def test_on_daphne_the_same_close_is_4012_a_plain_integer(
    world: Practice5, connect: Connect, settings: Any
) -> None:
    # Daphne's websocket library sends no 1012, and no IntEnum (the application crashed).
    settings.CONFIDE_SERVER = "daphne"
    clara = await connect(world.client)
    layer = get_channel_layer()
    await layer.group_send(events.user_group(world.client.id), {"type": "layer.reset"})
    output = await clara.communicator.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4012}
    assert type(output["code"]) is int
