"""Read receipts are stored and shown to members; typing is relayed, never stored."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from messaging.models import Membership
from tests.messaging.conftest import Connect
from tests.messaging.test_sync_and_history import store
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


async def last_read(world: Practice5, user_id: int) -> int:
    value: int = await database_sync_to_async(
        lambda: Membership.objects.get(conversation_id=world.chat.id, user_id=user_id).last_read_seq
    )()
    return value


async def test_a_read_receipt_is_stored_and_sent_to_every_member(
    world: Practice5, connect: Connect
) -> None:
    await database_sync_to_async(store)(world.chat, world.therapist, 3)
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    reply = await clara.request({"type": "read", "conversation": str(world.chat.id), "seq": 2})
    assert reply == {"type": "read_ok", "conversation": str(world.chat.id), "seq": 2, "ref": "r1"}
    pushed = await theo.receive_type("read")
    assert (pushed["user"], pushed["seq"]) == (world.client.id, 2)
    assert await last_read(world, world.client.id) == 2


async def test_read_state_never_moves_back_or_past_the_last_message(
    world: Practice5, connect: Connect
) -> None:
    await database_sync_to_async(store)(world.chat, world.therapist, 3)
    clara = await connect(world.client)
    past_end = await clara.request({"type": "read", "conversation": str(world.chat.id), "seq": 99})
    assert past_end["seq"] == 3
    await clara.request({"type": "read", "conversation": str(world.chat.id), "seq": 1})
    assert await last_read(world, world.client.id) == 3


async def test_typing_reaches_the_other_member_only(world: Practice5, connect: Connect) -> None:
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    await clara.send({"type": "typing", "conversation": str(world.chat.id)})
    pushed = await theo.receive()
    assert pushed == {"type": "typing", "conversation": str(world.chat.id), "user": world.client.id}
    assert await clara.nothing()
