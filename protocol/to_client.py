"""The websocket frames a server sends: replies (carrying the ``ref`` of their request)
and events (sent without a request, to every socket of a user).

The server builds every frame it sends from these models; a client reads every frame it
receives with :func:`parse_server_frame`, so a frame off this shape is refused whole.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, TypeAdapter

from protocol.common import B64, Epoch, Ref, Seq, Strict, Time, UserId, read
from protocol.errors import ApiError
from protocol.limits import Limits

__all__ = [
    "AckFrame",
    "ConversationAddedEvent",
    "ConversationStatusEvent",
    "DisclosureRecordedEvent",
    "EpochEvent",
    "ErrorFields",
    "ErrorFrame",
    "HistoryReply",
    "IdentityChangedEvent",
    "MessageFrame",
    "PongFrame",
    "ReadEvent",
    "ReadOkFrame",
    "ReadyFrame",
    "RecoveryRequestedEvent",
    "RekeyOkFrame",
    "ServerFrame",
    "SyncPage",
    "SyncReply",
    "ToClient",
    "TypingEvent",
    "parse_server_frame",
]

MessageSeq = Annotated[int, Field(ge=1, le=2**62)]
# A conversation whose erasure began ("erasing") or finished ("erased"): nothing of its
# history is served, not even part of it.
Erasure = Literal["erasing", "erased"]

_CONVERSATION = "6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b"
_MESSAGE_ID = "0b7e54a2-5f0c-4d59-9d8e-2f5c1a7b3e90"
_SENT_AT = "2026-11-26T23:25:27.123456+00:00"


# Examples of a frame, in the generated schema: the browser's tests feed them to the
# browser's code (tests/js/web_frames_match_the_protocol.test.mjs).
Examples = tuple[dict[str, Any], ...]


class ToClient(Strict):
    ref: Ref | None = None


class ReadyFrame(ToClient):
    """The first frame of every connection: whose socket it is, its limits, and the
    database generation (a new one after a restore from a backup: docs/protocol.md,
    "Restores")."""

    type: Literal["ready"] = "ready"
    user: UserId
    limits: Limits
    # Absent from a server older than generations (during a rolling upgrade): then no
    # restore is seen by it, only by the numbering.
    generation: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = None

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "ready",
            "user": 7,
            "generation": "5f0c2a7e9b6d4e31a8c2f4d6b1e3a597",
            "limits": {
                "max_frame_bytes": 262144,
                "message_rate": 20,
                "message_burst": 40,
                "history_page": 100,
                "max_sockets": 10,
            },
        },
    )


class MessageFrame(ToClient):
    """A stored message: pushed to every member's sockets when it is stored, and the items
    of ``sync`` and ``history`` pages."""

    type: Literal["message"] = "message"
    conversation: uuid.UUID
    seq: MessageSeq
    client_message_id: uuid.UUID
    epoch: Epoch
    sender: UserId
    ciphertext: B64
    sent_at: Time

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "message",
            "conversation": _CONVERSATION,
            "seq": 3,
            "client_message_id": _MESSAGE_ID,
            "epoch": 0,
            "sender": 7,
            "ciphertext": "AQID",
            "sent_at": _SENT_AT,
        },
    )


class AckFrame(ToClient):
    """The reply to ``send``, only after the commit: the message is stored under ``seq``."""

    type: Literal["ack"] = "ack"
    conversation: uuid.UUID
    client_message_id: uuid.UUID
    seq: MessageSeq
    sent_at: Time
    duplicate: bool

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "ack",
            "ref": "r1",
            "conversation": _CONVERSATION,
            "client_message_id": _MESSAGE_ID,
            "seq": 3,
            "sent_at": _SENT_AT,
            "duplicate": False,
        },
    )


class SyncPage(Strict):
    """``restored_at``: when the database generation announced in ``ready`` began on a
    restored database, the conversation's last sequence number then (absent otherwise). A
    client that last synced under an earlier generation and holds messages numbered after
    it holds messages the server lost (docs/protocol.md, "Restores")."""

    conversation: uuid.UUID
    messages: list[MessageFrame]
    has_more: bool
    last_seq: Seq
    restored_at: Seq | None = None
    # Set when the conversation is being erased or was erased: the page holds no message,
    # and none will come (docs/protocol.md, "Discharge and erasure").
    status: Erasure | None = None


class SyncReply(ToClient):
    """The reply to ``sync``: one page per conversation asked for."""

    type: Literal["sync"] = "sync"
    conversations: list[SyncPage]

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "sync",
            "ref": "r2",
            "conversations": [
                {"conversation": _CONVERSATION, "messages": [], "has_more": False, "last_seq": 3}
            ],
        },
    )


class HistoryReply(ToClient):
    """The reply to ``history``: a page of messages, oldest first."""

    type: Literal["history"] = "history"
    conversation: uuid.UUID
    messages: list[MessageFrame]
    has_more: bool
    last_seq: Seq
    # As in ``SyncPage``: set when the conversation is being or was erased.
    status: Erasure | None = None

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "history",
            "ref": "r3",
            "conversation": _CONVERSATION,
            "messages": [],
            "has_more": False,
            "last_seq": 0,
        },
    )


class ReadOkFrame(ToClient):
    """The reply to ``read``: the sequence number recorded (clamped to the last message)."""

    type: Literal["read_ok"] = "read_ok"
    conversation: uuid.UUID
    seq: Seq

    EXAMPLES: ClassVar[Examples] = (
        {"type": "read_ok", "ref": "r4", "conversation": _CONVERSATION, "seq": 3},
    )


class RekeyOkFrame(ToClient):
    """The reply to ``rekey``: the new epoch is current."""

    type: Literal["rekey_ok"] = "rekey_ok"
    conversation: uuid.UUID
    epoch: Epoch

    EXAMPLES: ClassVar[Examples] = (
        {"type": "rekey_ok", "ref": "r5", "conversation": _CONVERSATION, "epoch": 1},
    )


class PongFrame(ToClient):
    """The reply to ``ping``."""

    type: Literal["pong"] = "pong"

    EXAMPLES: ClassVar[Examples] = ({"type": "pong", "ref": "r6"},)


# An error code on the wire: one of ``ErrorCode`` from a server of this version; a client
# reads any other (a newer server's) as a refusal it has no special rule for.
CodeText = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class ErrorFields(Strict):
    """The fields an error may carry besides its code and message (what each means:
    ``protocol.errors.ErrorData``)."""

    retry_after_ms: Annotated[int, Field(ge=0)] | None = None
    retry_after_s: Annotated[int, Field(ge=0)] | None = None
    current_epoch: Epoch | None = None
    invitation_used_up: bool | None = None
    max_bytes: Annotated[int, Field(ge=0)] | None = None
    remaining_bytes: Annotated[int, Field(ge=0)] | None = None
    missing_parts: list[Annotated[int, Field(ge=0)]] | None = None


class ErrorFrame(ToClient, ErrorFields):
    """A request was refused (``ref`` names it when it could be read)."""

    type: Literal["error"] = "error"
    code: CodeText
    message: str

    @classmethod
    def of(cls, error: ApiError, ref: str | None = None) -> ErrorFrame:
        return cls(ref=ref, code=error.code, message=error.message, **error.data)

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "error",
            "ref": "r1",
            "code": "stale_epoch",
            "message": "Messages must use epoch 1.",
            "current_epoch": 1,
        },
        {
            "type": "error",
            "ref": "r7",
            "code": "overloaded",
            "message": "The server is busy; nothing was stored. Retry shortly.",
            "retry_after_ms": 500,
        },
    )


class ReadEvent(ToClient):
    """A member has read up to ``seq`` (to every member's sockets)."""

    type: Literal["read"] = "read"
    conversation: uuid.UUID
    user: UserId
    seq: Seq

    EXAMPLES: ClassVar[Examples] = (
        {"type": "read", "conversation": _CONVERSATION, "user": 8, "seq": 3},
    )


class TypingEvent(ToClient):
    """Another member is typing (nothing is stored)."""

    type: Literal["typing"] = "typing"
    conversation: uuid.UUID
    user: UserId

    EXAMPLES: ClassVar[Examples] = ({"type": "typing", "conversation": _CONVERSATION, "user": 8},)


class EpochEvent(ToClient):
    """A member started a new epoch: the recipient's own envelope of its key."""

    type: Literal["epoch"] = "epoch"
    conversation: uuid.UUID
    epoch: Epoch
    wrapper: UserId
    envelope: B64

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "epoch",
            "conversation": _CONVERSATION,
            "epoch": 1,
            "wrapper": 8,
            "envelope": "AQID",
        },
    )


class ConversationAddedEvent(ToClient):
    """A conversation of the user began (a client accepted their invitation); it carries
    the id only: list the conversations to see it."""

    type: Literal["conversation_added"] = "conversation_added"
    conversation: uuid.UUID

    EXAMPLES: ClassVar[Examples] = ({"type": "conversation_added", "conversation": _CONVERSATION},)


class DisclosureRecordedEvent(ToClient):
    """The therapist recorded a disclosure in the conversation's accounting (to both
    members); it carries the ids only: ``GET /api/conversations/<id>/disclosures``."""

    type: Literal["disclosure_recorded"] = "disclosure_recorded"
    conversation: uuid.UUID
    disclosure: uuid.UUID

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "disclosure_recorded",
            "conversation": _CONVERSATION,
            "disclosure": "5d1c0a7e-9b3f-4e21-a8c6-d0b2e4f60718",
        },
    )


class ConversationStatusEvent(ToClient):
    """The conversation's status changed (to both members): the therapist discharged it
    (read-only from now on), or its erasure began or finished. ``at`` is when."""

    type: Literal["conversation_status"] = "conversation_status"
    conversation: uuid.UUID
    status: Literal["discharged", "erasing", "erased"]
    at: Time

    EXAMPLES: ClassVar[Examples] = (
        {
            "type": "conversation_status",
            "conversation": _CONVERSATION,
            "status": "discharged",
            "at": _SENT_AT,
        },
        {
            "type": "conversation_status",
            "conversation": _CONVERSATION,
            "status": "erased",
            "at": _SENT_AT,
        },
    )


class RecoveryRequestedEvent(ToClient):
    """A client of the therapist asked to recover their account with the therapist's help
    (to the therapists of their conversations); it carries the id only:
    ``GET /api/recoveries`` to see it."""

    type: Literal["recovery_requested"] = "recovery_requested"
    recovery: Annotated[int, Field(ge=1)]

    EXAMPLES: ClassVar[Examples] = ({"type": "recovery_requested", "recovery": 4},)


class IdentityChangedEvent(ToClient):
    """A member's identity changed (to the other members of their conversations, and to
    them): list the conversations again to read the new identity. ``reason`` is
    ``recovery`` for an assisted recovery that ``confirmed_by`` confirmed (new keys), or
    ``post_quantum`` when the same keys were published as a version-2 identity, which
    later epochs are wrapped to with X-Wing (no ``confirmed_by``; the fingerprint is the
    same)."""

    type: Literal["identity_changed"] = "identity_changed"
    user: UserId
    reason: Literal["recovery", "post_quantum"] = "recovery"
    confirmed_by: UserId | None = None

    EXAMPLES: ClassVar[Examples] = (
        {"type": "identity_changed", "user": 8, "reason": "recovery", "confirmed_by": 7},
        {"type": "identity_changed", "user": 8, "reason": "post_quantum"},
    )


ServerFrame = Annotated[
    ReadyFrame
    | MessageFrame
    | AckFrame
    | SyncReply
    | HistoryReply
    | ReadOkFrame
    | RekeyOkFrame
    | PongFrame
    | ErrorFrame
    | ReadEvent
    | TypingEvent
    | EpochEvent
    | ConversationAddedEvent
    | ConversationStatusEvent
    | DisclosureRecordedEvent
    | RecoveryRequestedEvent
    | IdentityChangedEvent,
    Field(discriminator="type"),
]
SERVER_FRAME_ADAPTER: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)


def parse_server_frame(text: str | bytes) -> ServerFrame:
    """The frame in ``text``, or :class:`~protocol.common.MalformedError`."""
    return read(SERVER_FRAME_ADAPTER, text)
