"""Bad input gets a documented error, stores nothing, and leaves the socket usable."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import override_settings

import crypto
from tests.messaging.conftest import Connect
from tests.messaging.test_send_and_ack import send_frame, stored_count
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)

CONVERSATION = "6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b"

BAD_FRAMES = {
    "not json": ("{", "bad_frame"),
    "a json list": ("[]", "bad_frame"),
    "a json string": ('"send"', "bad_frame"),
    "no type": ("{}", "bad_frame"),
    "unknown type": ('{"type": "delete_everything"}', "unknown_type"),
    "type of wrong kind": ('{"type": 7}', "unknown_type"),
    "unknown field": ('{"type": "ping", "admin": true}', "bad_frame"),
    "missing field": (json.dumps({"type": "send", "conversation": CONVERSATION}), "bad_frame"),
    "bad uuid": (json.dumps({"type": "typing", "conversation": "x"}), "bad_frame"),
    "seq as string": (
        json.dumps({"type": "read", "conversation": CONVERSATION, "seq": "3"}),
        "bad_frame",
    ),
    "negative seq": (
        json.dumps({"type": "sync", "after": {CONVERSATION: -1}}),
        "bad_frame",
    ),
    "ciphertext not base64url": (
        json.dumps(
            {
                "type": "send",
                "conversation": CONVERSATION,
                "client_message_id": str(uuid.uuid4()),
                "epoch": 0,
                "ciphertext": "not base64!",
            }
        ),
        "bad_frame",
    ),
    "ciphertext with padding": (
        json.dumps(
            {
                "type": "send",
                "conversation": CONVERSATION,
                "client_message_id": str(uuid.uuid4()),
                "epoch": 0,
                "ciphertext": "AAAA==",
            }
        ),
        "bad_frame",
    ),
    "ref too long": ('{"type": "ping", "ref": "' + "r" * 65 + '"}', "bad_frame"),
    "invalid utf-8 escape": ('{"type": "ping", "ref": "\\ud800"}', "bad_frame"),
    # A thousand levels made Python's json (reading the ref for the error) raise
    # RecursionError, which ended the socket without its cleanup.
    "nested a thousand levels deep": (
        '{"type": "ping", "ref": ' + "[" * 1000 + "]" * 1000 + "}",
        "bad_frame",
    ),
    "nested deeper than allowed": (
        '{"type": "sync", "after": ' + "[" * 33 + "]" * 33 + "}",
        "bad_frame",
    ),
    "a huge number": (
        json.dumps({"type": "read", "conversation": CONVERSATION, "seq": 10**400}),
        "bad_frame",
    ),
    "a float for a sequence number": (
        json.dumps({"type": "read", "conversation": CONVERSATION, "seq": 1e308}),
        "bad_frame",
    ),
    "a long string": (json.dumps({"type": "ping", "ref": "r" * 200_000}), "bad_frame"),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
async def test_a_bad_frame_gets_its_error_code_and_the_socket_survives(
    world: Practice5, connect: Connect, name: str
) -> None:
    text, code = BAD_FRAMES[name]
    clara = await connect(world.client)
    await clara.send(text)
    error = await clara.receive()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    assert (await clara.request({"type": "ping"}))["type"] == "pong"
    assert await stored_count() == 0


async def test_an_error_reply_carries_the_ref_of_the_frame_it_answers(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    await clara.send({"type": "ping", "ref": "abc-1", "extra": 1})
    error = await clara.receive()
    assert (error["code"], error["ref"]) == ("bad_frame", "abc-1")


async def test_a_binary_frame_is_refused(world: Practice5, connect: Connect) -> None:
    clara = await connect(world.client)
    await clara.communicator.send_to(bytes_data=b"\x00\x01")
    error = await clara.receive()
    assert error["code"] == "bad_frame"


async def test_garbage_that_decodes_as_base64_is_a_bad_ciphertext(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    reply = await clara.request(send_frame(world.chat.id, uuid.uuid4(), b"\x01" + b"\x00" * 300))
    assert reply["code"] == "bad_ciphertext"
    assert await stored_count() == 0


@override_settings(CONFIDE_MAX_FRAME_BYTES=4096)
async def test_an_oversized_frame_is_refused_and_the_socket_closed_with_1009(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    message_id, wire = world.chat.seal(world.client, "x" * 5000)
    await clara.send(send_frame(world.chat.id, message_id, wire))
    error = await clara.receive()
    assert error["code"] == "frame_too_large"
    assert await clara.communicator.receive_output() == {"type": "websocket.close", "code": 1009}
    assert await stored_count() == 0


async def test_the_largest_frame_within_the_limit_is_stored(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    # A 100 KiB message pads to 128 KiB: its frame is about 175,000 characters.
    message_id, wire = world.chat.seal(world.client, "y" * (100 * 1024))
    assert len(crypto.b64encode(wire)) < 262144
    ack = await clara.request(send_frame(world.chat.id, message_id, wire))
    assert ack["type"] == "ack"


@override_settings(CONFIDE_MESSAGE_RATE=1, CONFIDE_MESSAGE_BURST=3)
async def test_frames_over_the_rate_are_refused_with_a_retry_time(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    for i in range(3):
        assert (await clara.request({"type": "ping", "ref": f"p{i}"}))["type"] == "pong"
    message_id, wire = world.chat.seal(world.client, "too fast")
    refused = await clara.request(send_frame(world.chat.id, message_id, wire))
    assert refused["code"] == "rate_limited"
    assert 0 < refused["retry_after_ms"] <= 1001
    assert await stored_count() == 0


@override_settings(CONFIDE_MESSAGE_RATE=1, CONFIDE_MESSAGE_BURST=3)
async def test_malformed_frames_are_charged_to_the_rate_too(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    for _ in range(3):
        await clara.send("{not json")
        assert (await clara.receive())["code"] == "bad_frame"
    await clara.send("{not json")
    assert (await clara.receive())["code"] == "rate_limited"
