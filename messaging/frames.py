"""The websocket frames a client may send: typed schemas that forbid unknown fields.

A frame is one JSON text. ``parse_frame`` returns one of the models below or
raises ``FrameError`` with the code to report; it never touches the database.
Binary fields travel as base64url without padding (crypto/SPEC.md).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from messaging.errors import ErrorCode, MessagingError

# base64url of at most 1 MiB + 173 bytes of message overhead (crypto/SPEC.md).
MAX_CIPHERTEXT_CHARS = 1_400_000
MAX_SYNC_CONVERSATIONS = 500
MAX_ENVELOPES = 16

Ref = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
B64 = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
Seq = Annotated[int, Field(ge=0, le=2**62)]
Epoch = Annotated[int, Field(ge=0, le=2**32 - 1)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    ref: Ref | None = None


class SendFrame(Frame):
    """Store a sealed message; answered by ``ack`` after commit."""

    type: Literal["send"]
    conversation: uuid.UUID
    client_message_id: uuid.UUID
    epoch: Epoch
    ciphertext: Annotated[B64, Field(max_length=MAX_CIPHERTEXT_CHARS)]


class SyncFrame(Frame):
    """Messages after the given sequence numbers (one page per conversation)."""

    type: Literal["sync"]
    after: Annotated[dict[uuid.UUID, Seq], Field(max_length=MAX_SYNC_CONVERSATIONS)] = {}


class HistoryFrame(Frame):
    """A page of older messages, before ``before`` (or the newest page)."""

    type: Literal["history"]
    conversation: uuid.UUID
    before: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] | None = None


class ReadFrame(Frame):
    """The member has read up to ``seq``."""

    type: Literal["read"]
    conversation: uuid.UUID
    seq: Seq


class TypingFrame(Frame):
    type: Literal["typing"]
    conversation: uuid.UUID


class EnvelopeItem(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    recipient: Annotated[int, Field(ge=1)]
    envelope: Annotated[B64, Field(max_length=512)]


class RekeyFrame(Frame):
    """Starts epoch ``epoch`` with one envelope per member."""

    type: Literal["rekey"]
    conversation: uuid.UUID
    epoch: Epoch
    envelopes: Annotated[list[EnvelopeItem], Field(min_length=1, max_length=MAX_ENVELOPES)]


class PingFrame(Frame):
    type: Literal["ping"]


ClientFrame = Annotated[
    SendFrame | SyncFrame | HistoryFrame | ReadFrame | TypingFrame | RekeyFrame | PingFrame,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
FRAME_TYPES = frozenset({"send", "sync", "history", "read", "typing", "rekey", "ping"})


class FrameError(MessagingError):
    code = ErrorCode.BAD_FRAME


def parse_frame(text: str) -> ClientFrame:
    """The frame in ``text``, or ``FrameError`` (bad_frame or unknown_type)."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        if first["type"] == "union_tag_invalid":
            raise FrameError(
                "Unknown frame type; known types: " + ", ".join(sorted(FRAME_TYPES)),
                code=ErrorCode.UNKNOWN_TYPE,
            ) from None
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        raise FrameError(f"Invalid frame: {where}: {first['msg']}") from None
