"""The websocket frames a client sends to the server.

A frame is one JSON text object with a ``type``; every frame may carry a ``ref``, echoed
in its reply or error. :func:`parse_client_frame` is the server's only way in: it returns
one of the models below or raises :class:`~protocol.errors.FrameError` with the code to
report, and it never touches a database.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, ValidationError

from protocol.common import (
    B64,
    MAX_NESTING,
    Epoch,
    Ref,
    Seq,
    Strict,
    UserId,
    describe,
    nests_deeper_than,
)
from protocol.errors import ErrorCode, FrameError
from protocol.limits import MAX_CIPHERTEXT_CHARS, MAX_ENVELOPE_CHARS, MAX_ENVELOPES, MAX_SYNC

__all__ = [
    "CLIENT_FRAME_TYPES",
    "ClientFrame",
    "EnvelopeItem",
    "HistoryFrame",
    "PingFrame",
    "ReadFrame",
    "RekeyFrame",
    "SendFrame",
    "SyncFrame",
    "TypingFrame",
    "parse_client_frame",
]


class ToServer(Strict):
    ref: Ref | None = None


class SendFrame(ToServer):
    """Store a sealed message; answered by ``ack`` after the commit."""

    type: Literal["send"] = "send"
    conversation: uuid.UUID
    client_message_id: uuid.UUID
    epoch: Epoch
    ciphertext: Annotated[B64, Field(max_length=MAX_CIPHERTEXT_CHARS)]


class SyncFrame(ToServer):
    """The messages after the given sequence numbers (one page per conversation)."""

    type: Literal["sync"] = "sync"
    after: Annotated[dict[uuid.UUID, Seq], Field(max_length=MAX_SYNC)] = {}


class HistoryFrame(ToServer):
    """A page of older messages, before ``before`` (or the newest page)."""

    type: Literal["history"] = "history"
    conversation: uuid.UUID
    before: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] | None = None


class ReadFrame(ToServer):
    """The member has read up to ``seq``."""

    type: Literal["read"] = "read"
    conversation: uuid.UUID
    seq: Seq


class TypingFrame(ToServer):
    """The member is typing; nothing is stored, nothing answers."""

    type: Literal["typing"] = "typing"
    conversation: uuid.UUID


class EnvelopeItem(Strict):
    recipient: UserId
    envelope: Annotated[B64, Field(max_length=MAX_ENVELOPE_CHARS)]


class RekeyFrame(ToServer):
    """Starts epoch ``epoch`` with one envelope per member."""

    type: Literal["rekey"] = "rekey"
    conversation: uuid.UUID
    epoch: Epoch
    envelopes: Annotated[list[EnvelopeItem], Field(min_length=1, max_length=MAX_ENVELOPES)]


class PingFrame(ToServer):
    type: Literal["ping"] = "ping"


ClientFrame = Annotated[
    SendFrame | SyncFrame | HistoryFrame | ReadFrame | TypingFrame | RekeyFrame | PingFrame,
    Field(discriminator="type"),
]
CLIENT_FRAME_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
CLIENT_FRAME_TYPES = frozenset({"send", "sync", "history", "read", "typing", "rekey", "ping"})


def parse_client_frame(text: str | bytes) -> ClientFrame:
    """The frame in ``text``, or ``FrameError`` (``bad_frame`` or ``unknown_type``)."""
    if nests_deeper_than(text, MAX_NESTING):
        raise FrameError(f"Invalid frame: nested deeper than {MAX_NESTING} levels")
    try:
        return CLIENT_FRAME_ADAPTER.validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "union_tag_invalid":
            raise FrameError(
                "Unknown frame type; known types: " + ", ".join(sorted(CLIENT_FRAME_TYPES)),
                code=ErrorCode.UNKNOWN_TYPE,
            ) from None
        raise FrameError(f"Invalid frame: {describe(exc, 'frame')}") from None
