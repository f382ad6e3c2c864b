"""The writer looks a batch's message ids up as (conversation, id) pairs: an id is only a
resend in the conversation that holds it. One id may be used in two conversations (the
constraint is per conversation), and a batch that mixes a resend, a reuse with other
bytes and new messages gets each its own answer."""

from __future__ import annotations

import uuid

import pytest

from messaging.models import Message
from messaging.services.writer import StoredMessage, store_batch
from protocol.errors import ClientMessageIdReusedError
from tests.messaging.conftest import send_request
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_id_in_two_conversations_is_two_messages_and_a_resend_is_found_in_its_own(
    world: Practice5,
) -> None:
    shared = uuid.uuid4()
    first = send_request(world.chat, world.client, "mine", shared)
    [stored] = store_batch([first])
    assert isinstance(stored, StoredMessage) and not stored.duplicate

    reused = uuid.uuid4()
    [kept] = store_batch([send_request(world.chat, world.client, "kept", reused)])
    assert isinstance(kept, StoredMessage)

    results = store_batch(
        [
            # The same id in the other conversation: a new message there, not a resend.
            send_request(world.other_chat, world.other_client, "theirs", shared),
            first,  # a resend in its own conversation
            send_request(world.chat, world.client, "other bytes", reused),
            send_request(world.chat, world.client, "new", uuid.uuid4()),
        ]
    )
    theirs, resent, refused, new = results
    assert isinstance(theirs, StoredMessage)
    assert (theirs.conversation_id, theirs.seq, theirs.duplicate) == (world.other_chat.id, 1, False)
    assert isinstance(resent, StoredMessage)
    assert (resent.seq, resent.duplicate) == (stored.seq, True)
    assert isinstance(refused, ClientMessageIdReusedError)
    assert isinstance(new, StoredMessage) and (new.seq, new.duplicate) == (3, False)
    assert Message.objects.filter(client_message_id=shared).count() == 2
    assert Message.objects.filter(conversation_id=world.chat.id).count() == 3
