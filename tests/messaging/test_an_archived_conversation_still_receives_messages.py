"""Archiving is the therapist's own filing, not a block: the client can still write, the
therapist's sockets still get the message, and the conversation is listed unarchived again
once it is stored."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from messaging.services.inbox import set_archived
from tests.http.conftest import Browser
from tests.messaging.conftest import Connect
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db(transaction=True)


def archived_at(person: Person) -> object:
    reply = Browser().sign_in_as(person).get("/api/conversations")
    [conversation] = reply.json()["conversations"]
    return conversation["archived_at"]


async def test_the_client_writes_to_an_archived_conversation_and_it_comes_back(
    world: Practice5, connect: Connect
) -> None:
    await database_sync_to_async(set_archived)(world.therapist.user, world.chat.id, True)
    assert await database_sync_to_async(archived_at)(world.therapist) is not None
    theo = await connect(world.therapist)
    clara = await connect(world.client)

    message_id, wire = world.chat.seal(world.client, "Are you there?")
    ack = await clara.request(send_frame(world.chat.id, message_id, wire))

    assert ack["type"] == "ack", ack
    pushed = await theo.receive_type("message")
    assert pushed["client_message_id"] == str(message_id)
    assert pushed["sent_at"] == ack["sent_at"]
    assert await database_sync_to_async(archived_at)(world.therapist) is None
