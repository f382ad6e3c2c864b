"""What the client hands to its callers: accounts, conversations, messages and events.

Plaintext never appears in a ``repr``: a message's text and a recovery key are shown to a
person on purpose, never by accident in a log line or a traceback.

The events (the second half) arrive on ``ConfideClient.events``, in the order they
happened; :data:`ClientEvent` is their union.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from crypto import AttachmentReference, DisclosureDescription, PublicIdentity

__all__ = [
    "AcceptedAgreement",
    "Account",
    "Agreement",
    "AgreementSection",
    "ClientEvent",
    "ConnectionState",
    "ConnectionStatus",
    "ConversationSummary",
    "Disclosure",
    "DisclosureRecorded",
    "EpochStarted",
    "HistoryPage",
    "Invitation",
    "InvitationDetails",
    "InvitationSummary",
    "Member",
    "MessageState",
    "MessageStatus",
    "InboxEntry",
    "KeyDowngradeRefused",
    "OrderWarning",
    "PeerKeyChanged",
    "PeerRecovered",
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
    # An assisted recovery replaced this member's identity: who confirmed it (None: an
    # account that no longer exists) and the identity successions, oldest first, as the
    # server lists them; unverified until the client checks them (``earlier``).
    confirmed_by: int | None = None
    successions: tuple[bytes, ...] = ()
    # The member's earlier identities, newest first, as far as successions this client
    # verified lead back: their earlier messages and envelopes are signed with these.
    earlier: tuple[PublicIdentity, ...] = ()


@dataclass(frozen=True, slots=True)
class AcceptedAgreement:
    """A version of the practice's messaging agreement the user accepted, and when."""

    version: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class Account:
    """The signed-in user. ``agreement`` is the latest messaging agreement they accepted
    (``None``: none yet); whether it is the current one, :meth:`ConfideClient.agreement`
    tells."""

    id: int
    email: str
    display_name: str
    role: str
    practice_id: int
    practice_name: str
    identity: PublicIdentity
    agreement: AcceptedAgreement | None = None
    # The practice's crisis lines, (label, number) in its order: shown before writing
    # when the therapist is away or out of office hours.
    crisis_lines: tuple[tuple[str, str], ...] = ()


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
    """A therapist's new invitation, to share once as its link: ``path`` after the portal's
    address (``/invite#`` and ``fragment``). The fragment is the server's ``token`` and the
    fingerprint of the therapist's identity as this client holds it, so the client's
    browser refuses another key in the therapist's place; both are secrets. ``id`` names it
    in :meth:`ConfideClient.invitations` and :meth:`ConfideClient.revoke_invitation`."""

    id: int
    token: str = field(repr=False)
    fragment: str = field(repr=False)
    expires_at: datetime
    conversation: uuid.UUID

    @property
    def path(self) -> str:
        """``/invite#`` and the fragment: the link after the portal's address."""
        return f"/invite#{self.fragment}"


@dataclass(frozen=True, slots=True)
class InvitationSummary:
    """One of a therapist's invitations as listed (never its token). ``state`` is
    ``pending``, ``accepted``, ``expired`` or ``revoked``."""

    id: int
    client_name: str
    conversation: uuid.UUID
    created_at: datetime
    expires_at: datetime
    state: str


@dataclass(frozen=True, slots=True)
class AgreementSection:
    """One section of the messaging agreement: a heading and its paragraphs."""

    heading: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Agreement:
    """The practice's current messaging agreement, and whether this user accepted it.

    A client must accept it (:meth:`ConfideClient.accept_agreement` with its ``version``)
    before the server takes their messages; it states the limits of confidentiality, that
    messaging is not for emergencies, and when to expect a reply.
    """

    version: str
    published_at: datetime
    sections: tuple[AgreementSection, ...]
    accepted_at: datetime | None

    @property
    def accepted(self) -> bool:
        """Whether the user accepted this version."""
        return self.accepted_at is not None

    @property
    def text(self) -> str:
        """The agreement as plain text: each heading, then its paragraphs."""
        blocks = []
        for section in self.sections:
            blocks.append(section.heading)
            blocks.extend(section.paragraphs)
        return "\n\n".join(blocks)


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
class InboxEntry:
    """A therapist's own view of one conversation in their inbox: their label for the
    client (``""``: none; the client never sees it) and when they archived it (None: not
    archived). An archived conversation still takes and delivers messages."""

    conversation: uuid.UUID
    label: str
    archived_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A verified, decrypted message: its text and, for a message that presents files,
    their references (``attachments``: each file's name, size and media type, and the key
    and digest that open and check it; :meth:`ConfideClient.save_attachment` saves one).
    A text message has none."""

    conversation: uuid.UUID
    seq: int
    sender_id: int
    text: str = field(repr=False)
    sent_at: datetime
    client_message_id: uuid.UUID
    # When the sender wrote it, by the sender's clock, signed with it (a version-2
    # message); None for a message that does not carry it. ``sent_at`` is the server's.
    written_at: datetime | None = None
    # The files the message presents, in its order (crypto/SPEC.md, "Message content").
    attachments: tuple[AttachmentReference, ...] = field(default=(), repr=False)


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
class Disclosure:
    """One entry of a conversation's accounting of disclosures: the plain metadata the
    server keeps, and the description the therapist sealed (to whom, what, why), opened and
    checked against the therapist's identity and that metadata.

    A record that did not verify or open is kept, never dropped: ``description`` is then
    ``None`` and ``problem`` says why (an error's name, or ``"no_key"``, ``"not_therapist"``).
    The description never appears in a ``repr``.
    """

    id: uuid.UUID
    conversation: uuid.UUID
    recorded_by: int
    recorded_at: datetime
    disclosed_on: date
    legal_basis: str
    epoch: int
    description: DisclosureDescription | None = field(default=None, repr=False)
    problem: str | None = None

    @property
    def readable(self) -> bool:
        """Whether the description opened and matched the metadata."""
        return self.description is not None


@dataclass(frozen=True, slots=True)
class EpochStarted:
    """A member started a new epoch; its key has been unwrapped and kept."""

    conversation: uuid.UUID
    epoch: int
    wrapper_id: int


@dataclass(frozen=True, slots=True)
class PeerKeyChanged:
    """A member's public identity differs from the one seen before: compare safety numbers.

    ``verified``: the one before was verified (:meth:`ConfideClient.verify_peer`), so
    nothing is sent in the conversation until the person compares the safety number again
    (``verify_peer``) or accepts the new key (:meth:`ConfideClient.accept_peer_key`)."""

    conversation: uuid.UUID
    user_id: int
    verified: bool = False


@dataclass(frozen=True, slots=True)
class KeyDowngradeRefused:
    """An epoch's key was wrapped to this user with X25519 alone after their identity held
    an X-Wing key (crypto/SPEC.md, "Version 3: wrapped with X-Wing"): the server served
    ``wrapper`` an older identity of this user, so the envelope was refused and nothing of
    that epoch is read or written; the next message starts a new epoch."""

    conversation: uuid.UUID
    epoch: int
    wrapper: int


@dataclass(frozen=True, slots=True)
class PeerRecovered:
    """A member's public identity changed through an assisted recovery that this client
    verified: a succession signed by the therapist who confirmed it (this user, or the
    conversation's therapist as this client knows them) replaces the identity seen before.
    Their earlier messages still verify; no safety-number alarm is needed, but the new
    number may be compared."""

    conversation: uuid.UUID
    user_id: int
    confirmed_by: int


@dataclass(frozen=True, slots=True)
class ServerRestored:
    """The server went back in time (its database was restored from a backup): the
    conversation's messages numbered after ``restored_at``, which this client held up to
    ``held_up_to``, are no longer on the server.

    The ones this client sent itself are uploaded again (``resent``: their client message
    ids; ``not_resent``: how many were older than what this client keeps), under their own
    ids, and get new numbers; the others' come back when their senders' clients do the
    same, and are not shown twice. ``generation`` is the database generation the server
    now announces; None when it announced no new one (a restore it was not told of, seen
    only because it lists fewer messages than this client holds)."""

    conversation: uuid.UUID
    restored_at: int
    held_up_to: int
    resent: tuple[uuid.UUID, ...]
    not_resent: int
    generation: str | None


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    """A stored message that did not verify or decrypt; it is skipped, not shown."""

    conversation: uuid.UUID
    seq: int
    sender_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class OrderWarning:
    """What the messages' own order says the server's numbering hides (crypto/SPEC.md,
    "Order"), found among the messages this client has followed in a conversation.

    ``kind`` is ``missing`` (``first`` to ``last`` of one of the sender's sessions never
    arrived: they were written between ``written_after`` and ``written_before``, by the
    sender's clock; ``written_after`` is None when the gap is at the session's start),
    ``out_of_order`` (the message at ``seq`` was written before one the server numbered
    ahead of it), ``repeated`` (a second, different message in one place of the sender's
    order) or ``unseen`` (the message at ``seq`` answers one this client never received).
    ``seq`` is the message the warning goes with; ``sender_id`` whose messages it is about.
    Warnings are worked out when the messages at hand are all in; a message reported
    missing may still arrive later, and is then reported ``out_of_order``.
    """

    conversation: uuid.UUID
    kind: str
    seq: int
    sender_id: int
    first: int | None = None
    last: int | None = None
    written_after: datetime | None = None
    written_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnmatchedError:
    """An error frame that answers no request the client is still waiting for."""

    code: str
    message: str
    ref: str | None


class ConnectionState(StrEnum):
    """Where the websocket is."""

    #: The first connection is being opened.
    CONNECTING = "connecting"
    #: The socket is open and the server's ``ready`` arrived.
    CONNECTED = "connected"
    #: The connection was lost (or an attempt failed); the next attempt follows a delay.
    RECONNECTING = "reconnecting"
    #: Not connected, and no attempt is under way: never connected yet, or gave up after
    #: ``max_reconnect_attempts``.
    OFFLINE = "offline"
    #: Stopped for good: the session ended (sign in again) or the client was closed.
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """The connection's state, and each change of it as an event.

    ``reason`` says why it is not ``connected``: a code of the client's errors
    (``connection_lost``, ``timeout``, ``handshake_refused``, ``session_ended``, ``closed``,
    ``not_connected``) or the server's. ``retry_in`` is the delay in seconds before the
    next attempt and ``attempt`` that attempt's number, while ``reconnecting``.
    """

    state: ConnectionState
    reason: str | None = None
    retry_in: float | None = None
    attempt: int = 0


class MessageState(StrEnum):
    """Where one of the user's own messages is."""

    #: Sealed and kept in the outbox, not (or no longer) on its way: waiting for the
    #: connection, for a pause after ``rate_limited``, or for the agreement to be accepted
    #: (``reason`` says which).
    PENDING = "pending"
    #: Its ``send`` is on the wire; no answer yet.
    SENDING = "sending"
    #: The server acknowledged it: it is stored under ``seq``.
    SENT = "sent"
    #: Another member's read position reached it.
    READ = "read"
    #: The server refused it for good (``reason`` is the code); it left the outbox.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class MessageStatus:
    """The state of one of the user's own messages, and each change of it as an event.

    ``seq`` is set from ``sent`` on. ``reason`` is the code of the last refusal or failure:
    why it waits while ``pending``, why it was given up when ``failed``.
    """

    conversation: uuid.UUID
    client_message_id: uuid.UUID
    state: MessageState
    seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DisclosureRecorded:
    """The therapist recorded a disclosure in a conversation's accounting:
    :meth:`ConfideClient.disclosures` reads it."""

    conversation: uuid.UUID
    disclosure: uuid.UUID


ClientEvent = (
    ReadReceipt
    | DisclosureRecorded
    | Typing
    | EpochStarted
    | PeerKeyChanged
    | KeyDowngradeRefused
    | PeerRecovered
    | RejectedMessage
    | ServerRestored
    | OrderWarning
    | UnmatchedError
    | ConnectionStatus
    | MessageStatus
)
