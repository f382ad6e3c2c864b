"""A sealed message is stored once, acked after commit, and pushed to every member."""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async

import crypto
from messaging.models import Message
from tests.messaging.conftest import Connect
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


def send_frame(
    conversation: uuid.UUID, message_id: uuid.UUID, wire: bytes, epoch: int = 0
) -> dict[str, object]:
    return {
        "type": "send",
        "conversation": str(conversation),
        "client_message_id": str(message_id),
        "epoch": epoch,
        "ciphertext": crypto.b64encode(wire),
    }


async def stored_count(**filters: object) -> int:
    count: int = await database_sync_to_async(Message.objects.filter(**filters).count)()
    return count


async def test_a_message_is_acked_with_the_next_sequence_number(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    for expected_seq in (1, 2, 3):
        message_id, wire = world.chat.seal(world.client, f"hello {expected_seq}")
        ack = await clara.request(send_frame(world.chat.id, message_id, wire))
        assert ack["type"] == "ack"
        assert ack["seq"] == expected_seq
        assert ack["client_message_id"] == str(message_id)
        assert ack["duplicate"] is False
    assert await stored_count(conversation_id=world.chat.id) == 3


async def test_every_member_socket_but_the_senders_gets_the_message_and_can_open_it(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    clara_phone = await connect(world.client)
    theo = await connect(world.therapist)
    theo_second_tab = await connect(world.therapist)
    message_id, wire = world.chat.seal(world.client, "I had a hard week")
    ack = await clara.request(send_frame(world.chat.id, message_id, wire))
    assert ack["type"] == "ack", ack
    # The socket that sent it has all of it from the ack and its own bytes: no push.
    assert await clara.nothing(timeout=0.5)
    for socket in (theo, theo_second_tab, clara_phone):
        pushed = await socket.receive_type("message")
        assert pushed["sent_at"] == ack["sent_at"]
        assert pushed["seq"] == 1
        assert pushed["sender"] == world.client.id
        assert pushed["client_message_id"] == str(message_id)
        text = crypto.open_text(
            crypto.b64decode(pushed["ciphertext"]),
            world.chat.key,
            world.client.identity.public,
            world.chat.id,
            0,
            message_id,
        )
        assert text == "I had a hard week"


async def test_nobody_outside_the_conversation_gets_the_message(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    outsiders = [await connect(p) for p in world.outsiders().values()]
    message_id, wire = world.chat.seal(world.client, "private")
    await clara.request(send_frame(world.chat.id, message_id, wire))
    for socket in outsiders:
        assert await socket.nothing()


async def test_the_server_stores_the_sealed_bytes_exactly(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    message_id, wire = world.chat.seal(world.client, "exact")
    await clara.request(send_frame(world.chat.id, message_id, wire))
    stored = await database_sync_to_async(Message.objects.get)(client_message_id=message_id)
    assert bytes(stored.ciphertext) == wire
    assert stored.sender_id == world.client.id
    assert stored.epoch == 0


async def test_a_message_sealed_by_someone_else_is_rejected(
    world: Practice5, connect: Connect
) -> None:
    theo = await connect(world.therapist)
    # Clara's signed message, replayed by Theo as his own.
    message_id, wire = world.chat.seal(world.client, "forged")
    reply = await theo.request(send_frame(world.chat.id, message_id, wire))
    assert reply["code"] == "bad_ciphertext"
    assert await stored_count() == 0


async def test_a_message_moved_to_another_conversation_or_id_is_rejected(
    world: Practice5, connect: Connect
) -> None:
    oscar = await connect(world.other_client)
    message_id, wire = world.other_chat.seal(world.other_client, "moved")
    moved = await oscar.request(send_frame(world.chat.id, message_id, wire))
    assert moved["code"] in {"not_found", "bad_ciphertext"}
    renamed = await oscar.request(send_frame(world.other_chat.id, uuid.uuid4(), wire))
    assert renamed["code"] == "bad_ciphertext"
    wrong_epoch = await oscar.request(send_frame(world.other_chat.id, message_id, wire, epoch=1))
    assert wrong_epoch["code"] == "bad_ciphertext"
    assert await stored_count() == 0


async def test_a_flipped_byte_in_the_ciphertext_is_rejected(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    message_id, wire = world.chat.seal(world.client, "tamper")
    tampered = bytearray(wire)
    tampered[len(wire) // 2] ^= 0x01
    reply = await clara.request(send_frame(world.chat.id, message_id, bytes(tampered)))
    assert reply["code"] == "bad_ciphertext"
    assert await stored_count() == 0
