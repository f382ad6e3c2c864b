"""A member starts a new epoch with one signed envelope per member."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

import crypto
from crypto import ConversationKey, IdentityKeyPair
from messaging.models import Conversation, KeyEnvelope
from tests.messaging.conftest import Connect
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Person, Practice5, now_ms

pytestmark = pytest.mark.django_db(transaction=True)


def rekey_frame(
    world: Practice5,
    wrapper: Person,
    key: ConversationKey,
    epoch: int = 1,
    recipients: list[Person] | None = None,
    conversation_in_envelope: Any = None,
) -> dict[str, Any]:
    recipients = recipients if recipients is not None else list(world.chat.members)
    bound = conversation_in_envelope or world.chat.id
    created_at = now_ms()
    return {
        "type": "rekey",
        "conversation": str(world.chat.id),
        "epoch": epoch,
        "envelopes": [
            {
                "recipient": member.id,
                "envelope": crypto.b64encode(
                    crypto.wrap_conversation_key(
                        key, bound, epoch, member.identity.public, wrapper.identity, created_at
                    )
                ),
            }
            for member in recipients
        ],
    }


async def current_epoch(world: Practice5) -> int:
    conversation: Conversation = await database_sync_to_async(Conversation.objects.get)(
        pk=world.chat.id
    )
    return conversation.current_epoch


async def test_a_version_2_epoch_signs_one_time_and_one_key_for_every_member(
    world: Practice5, connect: Connect
) -> None:
    theo = await connect(world.therapist)
    clara = await connect(world.client)
    key = ConversationKey.generate()
    frame = rekey_frame(world, world.therapist, key)
    for item, member in zip(frame["envelopes"], world.chat.members, strict=True):
        item["envelope"] = crypto.b64encode(
            crypto.wrap_conversation_key(
                key, world.chat.id, 1, member.identity.public, world.therapist.identity, 1234
            )
        )
    assert (await theo.request(frame))["type"] == "rekey_ok"
    event = await clara.receive_type("epoch")
    info = crypto.parse_envelope(crypto.b64decode(event["envelope"]))
    assert (info.version, info.created_at, info.commitment) == (3, 1234, key.commitment())


async def test_each_member_gets_their_own_envelope_and_can_open_it(
    world: Practice5, connect: Connect
) -> None:
    theo = await connect(world.therapist)
    clara = await connect(world.client)
    key = ConversationKey.generate()
    reply = await theo.request(rekey_frame(world, world.therapist, key))
    assert reply["type"] == "rekey_ok"
    for socket, person in ((theo, world.therapist), (clara, world.client)):
        event = await socket.receive_type("epoch")
        assert (event["epoch"], event["wrapper"]) == (1, world.therapist.id)
        opened = crypto.unwrap_conversation_key(
            crypto.b64decode(event["envelope"]),
            person.identity,
            world.therapist.identity.public,
            world.chat.id,
            1,
        )
        assert opened == key
    assert await current_epoch(world) == 1


async def test_after_a_rekey_the_old_epoch_is_stale_and_the_new_one_works(
    world: Practice5, connect: Connect
) -> None:
    theo = await connect(world.therapist)
    clara = await connect(world.client)
    key = ConversationKey.generate()
    await theo.request(rekey_frame(world, world.therapist, key))
    message_id, old = world.chat.seal(world.client, "old epoch")
    stale = await clara.request(send_frame(world.chat.id, message_id, old))
    assert (stale["code"], stale["current_epoch"]) == ("stale_epoch", 1)
    new = crypto.seal_text("new epoch", key, world.chat.id, 1, world.client.identity, message_id)
    ack = await clara.request(send_frame(world.chat.id, message_id, new, epoch=1))
    assert ack["seq"] == 1


@pytest.mark.parametrize(
    "defect",
    [
        "missing member",
        "wrong epoch in envelope",
        "other conversation",
        "signed by someone else",
        "skips an epoch",
        "two keys for one epoch",
        "two creation times",
        "without X-Wing to an X-Wing identity",
        "version 1, which signs no time",
    ],
)
async def test_bad_envelopes_are_refused_and_nothing_changes(
    world: Practice5, connect: Connect, defect: str
) -> None:
    theo = await connect(world.therapist)
    key = ConversationKey.generate()
    if defect == "missing member":
        frame = rekey_frame(world, world.therapist, key, recipients=[world.therapist])
    elif defect == "wrong epoch in envelope":
        frame = rekey_frame(world, world.therapist, key, epoch=2)
        frame["epoch"] = 1
    elif defect == "other conversation":
        frame = rekey_frame(
            world, world.therapist, key, conversation_in_envelope=world.other_chat.id
        )
    elif defect == "signed by someone else":
        frame = rekey_frame(world, world.client, key)
    elif defect == "without X-Wing to an X-Wing identity":
        # Wrapped with X25519 alone to Clara's version-1 identity of the same keys, which
        # the server no longer publishes: the wrapper was given a stale identity.
        frame = rekey_frame(world, world.therapist, key)
        classical = IdentityKeyPair(world.client.identity._secret_material()).public
        frame["envelopes"][0]["envelope"] = crypto.b64encode(
            crypto.wrap_conversation_key(
                key, world.chat.id, 1, classical, world.therapist.identity, now_ms()
            )
        )
        assert frame["envelopes"][0]["recipient"] == world.client.id
    elif defect == "version 1, which signs no time":
        # A recipient could not tell such an epoch from history: no new epoch is one.
        frame = rekey_frame(world, world.therapist, key)
        for item, member in zip(frame["envelopes"], world.chat.members, strict=True):
            classical = IdentityKeyPair(member.identity._secret_material()).public
            item["envelope"] = crypto.b64encode(
                crypto.wrap_conversation_key(
                    key, world.chat.id, 1, classical, world.therapist.identity
                )
            )
    elif defect in ("two keys for one epoch", "two creation times"):
        # Each member's envelope is sound alone; together they give members different keys
        # or different accounts of the epoch (crypto/SPEC.md, "Version 2").
        other_key = ConversationKey.generate() if defect == "two keys for one epoch" else key
        times = {"two keys for one epoch": (1, 1), "two creation times": (1, 2)}
        first, second = times[defect]
        frame = rekey_frame(world, world.therapist, key)
        for item, member, created_at, wrapped in zip(
            frame["envelopes"],
            world.chat.members,
            (first, second),
            (key, other_key),
            strict=True,
        ):
            item["envelope"] = crypto.b64encode(
                crypto.wrap_conversation_key(
                    wrapped,
                    world.chat.id,
                    1,
                    member.identity.public,
                    world.therapist.identity,
                    created_at,
                )
            )
    else:
        frame = rekey_frame(world, world.therapist, key, epoch=2)
    reply = await theo.request(frame)
    assert reply["code"] in {"bad_envelopes", "stale_epoch"}
    assert reply["code"] == ("stale_epoch" if defect == "skips an epoch" else "bad_envelopes")
    assert await current_epoch(world) == 0
    count = await database_sync_to_async(
        KeyEnvelope.objects.filter(conversation_id=world.chat.id).count
    )()
    assert count == 2
