"""What the client hands to its callers: accounts, conversations, messages and events.

Plaintext never appears in a ``repr``: a message's text and a recovery key are shown to a
person on purpose, never by accident in a log line or a traceback.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from crypto import PublicIdentity

__all__ = [
    "Account",
    "ClientEvent",
    "ConversationSummary",
    "EpochStarted",
    "HistoryPage",
    "Invitation",
    "InvitationDetails",
    "Member",
    "PeerKeyChanged",
    "ReadReceipt",
    "ReceivedMessage",
    "RejectedMessage",
    "SignUp",
    "Typing",
    "UnmatchedError",
]


@dataclass(frozen=True, slots=True)
class Member:
    """A member of a conversation as the server lists them, with their verified identity."""

    id: int
    display_name: str
    role: str
    identity: PublicIdentity


@dataclass(frozen=True, slots=True)
class Account:
    """The signed-in user."""

    id: int
    email: str
    display_name: str
    role: str
    practice_id: int
    practice_name: str
    identity: PublicIdentity


@dataclass(frozen=True, slots=True)
class SignUp:
    """The result of accepting an invitation.

    ``recovery_key`` is the display form of the new recovery key: show it once to the
    person and never store or log it.
    """

    account: Account
    conversation: uuid.UUID
    recovery_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Invitation:
    """A therapist's new invitation; ``token`` is shown once and is a secret."""

    token: str = field(repr=False)
    path: str = field(repr=False)
    expires_at: datetime
    conversation: uuid.UUID


@dataclass(frozen=True, slots=True)
class InvitationDetails:
    """What an invitation says before it is accepted."""

    conversation: uuid.UUID
    client_name: str
    therapist: Member
    practice: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One conversation of the user, as last fetched from the server."""

    id: uuid.UUID
    status: str
    current_epoch: int
    last_seq: int
    last_read_seq: int
    unread: int
    members: tuple[Member, ...]
    read_seqs: dict[int, int]


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A verified, decrypted message."""

    conversation: uuid.UUID
    seq: int
    sender_id: int
    text: str = field(repr=False)
    sent_at: datetime
    client_message_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """A page of older messages, oldest first."""

    conversation: uuid.UUID
    messages: tuple[ReceivedMessage, ...]
    has_more: bool
    last_seq: int


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadReceipt:
    """A member has read up to ``seq``."""

    conversation: uuid.UUID
    user_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class Typing:
    """Another member is typing."""

    conversation: uuid.UUID
    user_id: int


@dataclass(frozen=True, slots=True)
class EpochStarted:
    """A member started a new epoch; its key has been unwrapped and kept."""

    conversation: uuid.UUID
    epoch: int
    wrapper_id: int


@dataclass(frozen=True, slots=True)
class PeerKeyChanged:
    """A member's public identity differs from the one seen before: compare safety numbers."""

    conversation: uuid.UUID
    user_id: int


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    """A stored message that did not verify or decrypt; it is skipped, not shown."""

    conversation: uuid.UUID
    seq: int
    sender_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class UnmatchedError:
    """An error frame that answers no request the client is still waiting for."""

    code: str
    message: str
    ref: str | None


ClientEvent = (
    ReadReceipt | Typing | EpochStarted | PeerKeyChanged | RejectedMessage | UnmatchedError
)
