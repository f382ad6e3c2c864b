"""Every frame of the protocol reads back as itself, and anything off its shape is
refused with the documented code (server side) or MalformedError (client side)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from protocol import encode, parse_client_frame, parse_server_frame
from protocol.common import MalformedError
from protocol.errors import ErrorCode, FrameError, StaleEpochError
from protocol.to_client import SERVER_FRAME_ADAPTER, AckFrame, ErrorFrame, MessageFrame
from protocol.to_server import SendFrame, SyncFrame

EXAMPLES = [
    example
    for member in SERVER_FRAME_ADAPTER.json_schema(mode="serialization")["$defs"].values()
    for example in member.get("examples", [])
]


def test_every_server_frame_type_has_an_example() -> None:
    types = {example["type"] for example in EXAMPLES}
    assert types == {
        "ready",
        "message",
        "ack",
        "sync",
        "history",
        "read_ok",
        "rekey_ok",
        "pong",
        "error",
        "read",
        "typing",
        "epoch",
        "conversation_added",
        "conversation_status",
        "disclosure_recorded",
        "recovery_requested",
        "identity_changed",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: str(e["type"]))
def test_each_server_frame_example_reads_back_as_written(example: dict[str, Any]) -> None:
    frame = parse_server_frame(json.dumps(example))
    assert json.loads(encode(frame)) == example


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"seq": "3"},
        {"seq": 0},
        {"type": "messages"},
        {"ciphertext": "not base64!"},
        {"sent_at": "yesterday"},
    ],
)
def test_a_server_frame_off_its_shape_is_malformed(change: dict[str, Any]) -> None:
    message = next(e for e in EXAMPLES if e["type"] == "message")
    with pytest.raises(MalformedError):
        parse_server_frame(json.dumps({**message, **change}))


def test_a_frame_never_carries_null() -> None:
    ack = AckFrame(
        conversation=uuid.uuid4(),
        client_message_id=uuid.uuid4(),
        seq=1,
        sent_at=datetime.now(UTC),
        duplicate=False,
    )
    assert "ref" not in json.loads(encode(ack))
    error = ErrorFrame.of(StaleEpochError("Use epoch 2.", current_epoch=2), "r9")
    assert json.loads(encode(error)) == {
        "type": "error",
        "ref": "r9",
        "code": "stale_epoch",
        "message": "Use epoch 2.",
        "current_epoch": 2,
    }


def test_times_are_written_as_isoformat_writes_them() -> None:
    sent_at = datetime(2026, 12, 4, 14, 10, 17, tzinfo=UTC)
    frame = MessageFrame(
        conversation=uuid.uuid4(),
        seq=1,
        client_message_id=uuid.uuid4(),
        epoch=0,
        sender=1,
        ciphertext="AQ",
        sent_at=sent_at,
    )
    assert json.loads(encode(frame))["sent_at"] == sent_at.isoformat()


def test_a_client_frame_built_by_its_model_is_read_by_the_server() -> None:
    send = SendFrame(
        ref="r1",
        conversation=uuid.uuid4(),
        client_message_id=uuid.uuid4(),
        epoch=0,
        ciphertext="AQ",
    )
    assert parse_client_frame(encode(send)) == send
    assert parse_client_frame(encode(SyncFrame())) == SyncFrame()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type": "nope"}', ErrorCode.UNKNOWN_TYPE),
        ('{"ref": "r1"}', ErrorCode.BAD_FRAME),
        ('{"type": "ping", "extra": 1}', ErrorCode.BAD_FRAME),
        ("[1]", ErrorCode.BAD_FRAME),
        ("not json", ErrorCode.BAD_FRAME),
    ],
)
def test_a_client_frame_off_its_shape_gets_its_code(text: str, code: ErrorCode) -> None:
    with pytest.raises(FrameError) as refused:
        parse_client_frame(text)
    assert refused.value.code == code
