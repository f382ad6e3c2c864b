"""A practice admin is a member of no conversation: their socket hears nothing of the
practice's messages, and ``sync`` and ``history`` give them nothing (each frame naming a
conversation is refused as ``not_found``: test_websocket_authorisation.py)."""

from __future__ import annotations

import pytest

from tests.messaging.conftest import Connect
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_admins_socket_hears_nothing_of_the_practices_messages(
    world: Practice5, connect: Connect
) -> None:
    ada = await connect(world.admin)
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    await clara.request(send_frame(world.chat.id, *world.chat.seal(world.client, "private")))
    assert (await theo.receive_type("message"))["conversation"] == str(world.chat.id)
    await theo.request({"type": "read", "conversation": str(world.chat.id), "seq": 1})
    await theo.send({"type": "typing", "conversation": str(world.chat.id)})
    assert await ada.nothing(timeout=0.5)
    synced = await ada.request(
        {"type": "sync", "after": {str(world.chat.id): 0, str(world.other_chat.id): 0}}
    )
    assert synced["type"] == "error" and synced["code"] == "not_found"
    empty = await ada.request({"type": "sync", "after": {}})
    assert empty["type"] != "error", empty
    assert (empty["type"], empty["conversations"]) == ("sync", []), empty
