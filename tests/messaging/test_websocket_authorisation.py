"""Every frame type is authorised on its own: outsiders learn and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async

import crypto
from messaging.models import Conversation, KeyEnvelope, Membership
from tests.messaging.conftest import Connect, Socket
from tests.messaging.test_send_and_ack import send_frame, stored_count
from tests.personas import Person, Practice5, now_ms

pytestmark = pytest.mark.django_db(transaction=True)

OUTSIDERS = ["other client", "other therapist", "admin"]


def _send(world: Practice5, outsider: Person) -> dict[str, Any]:
    # A message the outsider seals for the conversation with a key they made up.
    key = crypto.ConversationKey.generate()
    message_id = uuid.uuid4()
    wire = crypto.seal_text("intrusion", key, world.chat.id, 0, outsider.identity, message_id)
    return send_frame(world.chat.id, message_id, wire)


def _rekey(world: Practice5, outsider: Person) -> dict[str, Any]:
    key = crypto.ConversationKey.generate()
    return {
        "type": "rekey",
        "conversation": str(world.chat.id),
        "epoch": 1,
        "envelopes": [
            {
                "recipient": member.id,
                "envelope": crypto.b64encode(
                    crypto.wrap_conversation_key(
                        key, world.chat.id, 1, member.identity.public, outsider.identity, now_ms()
                    )
                ),
            }
            for member in world.chat.members
        ],
    }


FRAMES: dict[str, Callable[[Practice5, Person], dict[str, Any]]] = {
    "send": _send,
    "sync": lambda w, p: {"type": "sync", "after": {str(w.chat.id): 0}},
    "history": lambda w, p: {"type": "history", "conversation": str(w.chat.id)},
    "read": lambda w, p: {"type": "read", "conversation": str(w.chat.id), "seq": 1},
    "typing": lambda w, p: {"type": "typing", "conversation": str(w.chat.id)},
    "rekey": _rekey,
}


def test_the_matrix_covers_every_frame_type_that_names_a_conversation() -> None:
    from protocol.to_server import CLIENT_FRAME_TYPES as FRAME_TYPES

    assert set(FRAMES) == FRAME_TYPES - {"ping"}


async def _state(world: Practice5) -> tuple[int, int, int, list[int]]:
    def read() -> tuple[int, int, int, list[int]]:
        conversation = Conversation.objects.get(pk=world.chat.id)
        return (
            conversation.last_seq,
            conversation.current_epoch,
            KeyEnvelope.objects.filter(conversation=conversation).count(),
            list(
                Membership.objects.filter(conversation=conversation)
                .order_by("user_id")
                .values_list("last_read_seq", flat=True)
            ),
        )

    state: tuple[int, int, int, list[int]] = await database_sync_to_async(read)()
    return state


@pytest.mark.parametrize("frame_type", sorted(FRAMES))
@pytest.mark.parametrize("outsider_name", OUTSIDERS)
async def test_an_outsider_gets_not_found_and_nothing_changes(
    world: Practice5, connect: Connect, frame_type: str, outsider_name: str
) -> None:
    # Seed one real message so that "read" and "sync" would have something to touch.
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    await clara.request(send_frame(world.chat.id, *world.chat.seal(world.client, "seed")))
    await theo.receive_type("message")
    before = await _state(world)

    outsider = world.outsiders()[outsider_name]
    socket = await connect(outsider)
    frame = FRAMES[frame_type](world, outsider)
    await socket.send({"ref": "probe", **frame})
    reply = await socket.receive()
    assert reply["type"] == "error"
    assert reply["code"] == "not_found"
    assert reply["ref"] == "probe"
    assert await _state(world) == before
    assert await stored_count() == 1
    for member_socket in (clara, theo):
        assert await member_socket.nothing()


async def test_an_unknown_conversation_gets_the_same_answer_as_someone_elses(
    world: Practice5, connect: Connect
) -> None:
    oscar = await connect(world.other_client)
    theirs = await oscar.request({"type": "history", "conversation": str(world.chat.id)})
    unknown = await oscar.request({"type": "history", "conversation": str(uuid.uuid4())})
    assert theirs["code"] == unknown["code"] == "not_found"
    assert theirs["message"] == unknown["message"]


async def test_a_deactivated_member_is_refused_on_the_next_frame(
    world: Practice5, connect: Connect
) -> None:
    clara: Socket = await connect(world.client)

    def deactivate_quietly() -> None:
        # A change made behind the application's back (SQL of its own), so no event closes
        # the socket: it learns only from its own checks.
        from django.db import connection

        table = connection.ops.quote_name(type(world.client.user)._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET is_active = %s WHERE id = %s",  # noqa: S608
                [False, world.client.id],
            )

    await database_sync_to_async(deactivate_quietly)()
    reply = await clara.request(
        send_frame(world.chat.id, *world.chat.seal(world.client, "after deactivation"))
    )
    assert reply["code"] == "not_found"
    assert await stored_count() == 0
