"""The client's message id makes a resend harmless, even when two race."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.messaging.conftest import Connect
from tests.messaging.test_send_and_ack import send_frame, stored_count
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_resend_is_acked_with_the_same_seq_and_stored_once(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    message_id, wire = world.chat.seal(world.client, "once")
    first = await clara.request(send_frame(world.chat.id, message_id, wire))
    again = await clara.request(send_frame(world.chat.id, message_id, wire))
    assert (first["seq"], first["duplicate"]) == (1, False)
    assert (again["seq"], again["duplicate"]) == (1, True)
    assert await stored_count(client_message_id=message_id) == 1
    assert (await theo.receive_type("message"))["seq"] == 1
    assert await theo.nothing()  # the resend is not delivered twice


async def test_the_same_id_sent_at_once_from_two_sockets_is_stored_once(
    world: Practice5, connect: Connect
) -> None:
    tabs = [await connect(world.client) for _ in range(4)]
    message_id, wire = world.chat.seal(world.client, "raced")
    for tab in tabs:
        await tab.send({"ref": "race", **send_frame(world.chat.id, message_id, wire)})
    acks = await asyncio.gather(*(tab.receive_type("ack") for tab in tabs))
    assert {ack["seq"] for ack in acks} == {1}
    assert sorted(ack["duplicate"] for ack in acks) == [False, True, True, True]
    assert await stored_count(client_message_id=message_id) == 1


async def test_different_messages_sent_at_once_get_distinct_gapless_seqs(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    frames = [send_frame(world.chat.id, *world.chat.seal(world.client, f"c{i}")) for i in range(10)]
    frames += [
        send_frame(world.chat.id, *world.chat.seal(world.therapist, f"t{i}")) for i in range(10)
    ]
    for i, frame in enumerate(frames):
        await (clara if i < 10 else theo).send({"ref": f"f{i}", **frame})
    acks = [await clara.receive_type("ack") for _ in range(10)]
    acks += [await theo.receive_type("ack") for _ in range(10)]
    assert sorted(ack["seq"] for ack in acks) == list(range(1, 21))


async def test_a_reused_id_with_other_bytes_is_refused_and_the_first_is_kept(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    message_id = uuid.uuid4()
    _, first = world.chat.seal(world.client, "first", client_message_id=message_id)
    _, second = world.chat.seal(world.client, "second", client_message_id=message_id)
    assert (await clara.request(send_frame(world.chat.id, message_id, first)))["seq"] == 1
    reply = await clara.request(send_frame(world.chat.id, message_id, second))
    assert reply["code"] == "client_message_id_reused"
    assert await stored_count(client_message_id=message_id) == 1
