"""Random frames, however deep, large or strange, are each answered with a documented
error (or, for a valid one, its reply), store nothing of anyone else's, and leave the
socket usable: nesting to two thousand levels, numbers of four hundred digits and floats,
long and odd strings, objects with the right keys and wrong values."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import pytest
from django.test import override_settings

from protocol.errors import ErrorCode
from tests.messaging.conftest import Connect
from tests.messaging.test_send_and_ack import stored_count
from tests.personas import Practice5

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

FRAMES = 400
KEYS = ["type", "ref", "conversation", "seq", "epoch", "after", "before", "limit", "envelopes"]
TYPES = ["send", "sync", "history", "read", "typing", "rekey", "ping", "nope", ""]
# What a frame may be answered with: every code a frame can earn, or a reply.
DOCUMENTED = {str(code) for code in ErrorCode}


def value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([0, -1, 2**62, 2**63, 10**400, rng.randrange(-(10**9), 10**9)])
    if kind == 2:
        return rng.choice([0.5, -1e308, 1e308, 3.0])
    if kind == 3:
        return rng.choice(["", "x" * rng.randrange(1, 5000), "\u202e\u0000\ufeff", "🙂" * 50])
    if kind == 4:
        return str(uuid.uuid4())
    if kind == 5:
        return rng.choice(TYPES)
    if kind == 6:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): value(rng, depth + 1) for _ in range(rng.randrange(5))}


def nested(depth: int, rng: random.Random) -> str:
    opening, closing = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
    return '{"type": "ping", "ref": ' + opening * depth + "1" + closing * depth + "}"


def frame(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return nested(rng.choice([31, 33, 200, 1000, 2000]), rng)
    if roll < 0.25:
        return rng.choice(["{", "}", "null", "[]", '"ping"', "\\u0000", "{" * 3000])
    body = {key: value(rng) for key in rng.sample(KEYS, rng.randrange(1, len(KEYS)))}
    if rng.random() < 0.7:
        body["type"] = rng.choice(TYPES)
    return json.dumps(body)


@override_settings(CONFIDE_MESSAGE_RATE=100_000, CONFIDE_MESSAGE_BURST=100_000)
async def test_random_frames_are_answered_and_the_socket_survives(
    world: Practice5, connect: Connect
) -> None:
    rng = random.Random(20261204)
    clara = await connect(world.client)
    codes: set[str] = set()
    for n in range(FRAMES):
        text = frame(rng)
        await clara.send(text)
        await clara.send({"type": "ping", "ref": f"check-{n}"})
        while (answer := await clara.receive(timeout=5)).get("ref") != f"check-{n}":
            # Whatever came first answered the random frame: a documented error, or a
            # reply to a frame that happened to be valid.
            if answer["type"] == "error":
                codes.add(answer["code"])
        assert answer["type"] == "pong", (n, text[:200], answer)
    assert codes <= DOCUMENTED
    assert {"bad_frame", "unknown_type"} <= codes
    assert await stored_count() == 0
