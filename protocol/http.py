"""The HTTP API's bodies: what each endpoint under ``/api/`` takes and answers
(docs/protocol.md, "HTTP API").

The server reads every request body with these models and builds every answer from them;
the Python client reads every answer with them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from protocol.common import B64, Epoch, Seq, Strict, Time, UserId
from protocol.errors import ApiError
from protocol.limits import MAX_ENVELOPE_CHARS, MAX_PINS_CHARS, MAX_RECOVERY_ENVELOPES
from protocol.to_client import CodeText, ErrorFields

__all__ = [
    "AcceptAnswer",
    "AcceptRequest",
    "AgreementAnswer",
    "AgreementBody",
    "AgreementRequest",
    "AgreementSection",
    "AgreementText",
    "ArchiveRequest",
    "AssistedRecoveryAnswer",
    "AssistedRecoveryRequest",
    "AttachmentAnswer",
    "AttachmentBody",
    "AttachmentCompleteRequest",
    "AttachmentRequest",
    "ConversationAnswer",
    "ConversationBody",
    "ConversationsAnswer",
    "ConversationsPage",
    "CrisisLineBody",
    "CsrfAnswer",
    "CurrentAgreementAnswer",
    "DisclosureAnswer",
    "DisclosureItem",
    "DisclosureRequest",
    "DisclosuresAnswer",
    "EnvelopeBody",
    "ErrorBody",
    "ErrorDetail",
    "ExportAnswer",
    "ExportRequest",
    "IdentityChangeBody",
    "InboxEntryAnswer",
    "InvitationAnswer",
    "InvitationItem",
    "InvitationRequest",
    "InvitationsAnswer",
    "KdfBody",
    "LegalBasis",
    "LabelRequest",
    "LookupAnswer",
    "MeBody",
    "MemberBody",
    "NotificationSettings",
    "OkAnswer",
    "ParamsRequest",
    "PinsAnswer",
    "PinsRequest",
    "PracticeBody",
    "PushKeys",
    "PushSettings",
    "PushSubscribeRequest",
    "PushUnsubscribeRequest",
    "RecoverBeginAnswer",
    "RecoverBeginRequest",
    "RecoverFinishRequest",
    "RecoveriesAnswer",
    "RecoveryConfirmRequest",
    "RecoveryConversation",
    "RecoveryDecisionAnswer",
    "RecoveryEnvelopesRequest",
    "RecoveryItem",
    "RecoveryKdfBody",
    "RecoveryStagedAnswer",
    "RenewRequest",
    "SignInRequest",
    "TokenRequest",
    "UserAnswer",
]

# Control characters (NUL above all, which PostgreSQL refuses) are never part of a name.
Email = Annotated[
    str,
    Field(min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"),
]
# Characters no name or text shown to people may hold: control characters (C0, DEL, C1),
# invisible ones (zero-width space, byte order mark, line and paragraph separators) and the
# bidirectional marks, overrides and isolates, which would reorder what is shown around
# them (a crisis line's label could make "988" read as another number). Zero-width
# joiners stay allowed: scripts and emoji need them.
TEXT_FORBIDDEN = r"\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
Name = Annotated[str, Field(min_length=1, max_length=150, pattern=rf"^[^{TEXT_FORBIDDEN}]+$")]
# The 32-byte authentication secret of crypto/SPEC.md, base64url.
AuthSecret = Annotated[str, Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]
AgreementVersion = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]
Token = Annotated[str, Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
# A password recovery's 32-byte challenge and 64-byte proof (crypto/SPEC.md, "Recovery").
Challenge = Annotated[str, Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]
Proof = Annotated[str, Field(min_length=86, max_length=86, pattern=r"^[A-Za-z0-9_-]+$")]
# An identity succession (crypto/SPEC.md, "Identity succession"), base64url: 347 bytes,
# or up to 2,795 for version 2.
SuccessionText = Annotated[str, Field(min_length=463, max_length=3727, pattern=r"^[A-Za-z0-9_-]+$")]
KeyMaterial = Annotated[B64, Field(max_length=MAX_ENVELOPE_CHARS)]
RoleName = Literal["therapist", "client", "admin"]
# active; discharged (read-only, kept for the practice's retention); erasing (its
# erasure under way: nothing of it is served); erased (a tombstone: nothing of it remains).
ConversationStatus = Literal["active", "discharged", "erasing", "erased"]
# A member's own label for a conversation: trimmed, at most 150 characters, none of them
# in TEXT_FORBIDDEN. Empty: no label.
LABEL_FORBIDDEN = TEXT_FORBIDDEN
LABEL_MAX_LENGTH = 150
Label = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=LABEL_MAX_LENGTH, pattern=rf"^[^{LABEL_FORBIDDEN}]*$"
    ),
]


# --- requests -----------------------------------------------------------------------------


class ParamsRequest(Strict):
    """``POST /api/auth/params``."""

    email: Email


class SignInRequest(Strict):
    """``POST /api/auth/signin``."""

    email: Email
    auth_secret: AuthSecret


class AgreementRequest(Strict):
    """``POST /api/agreement``."""

    version: AgreementVersion


class InvitationRequest(Strict):
    """``POST /api/invitations``."""

    client_name: Name


class TokenRequest(Strict):
    """``POST /api/invitations/lookup``."""

    token: Token


class KdfBody(Strict):
    """The salt and Argon2id parameters of an account (crypto/SPEC.md); the bounds a
    client accepts are those of ``crypto.KdfParams``."""

    salt: KeyMaterial
    opslimit: int
    memlimit: int
    algorithm: Literal["argon2id13"] = "argon2id13"


class RecoverBeginRequest(Strict):
    """``POST /api/auth/recover/begin``."""

    email: Email


class RecoverFinishRequest(Strict):
    """``POST /api/auth/recover/finish``: new password material for the account of
    ``email``, signed by its identity over the challenge (crypto/SPEC.md, "Recovery")."""

    email: Email
    challenge: Challenge
    salt: KeyMaterial
    opslimit: int
    memlimit: int
    auth_secret: AuthSecret
    key_bundle: KeyMaterial
    proof: Proof


class AcceptRequest(Strict):
    """``POST /api/invitations/accept``."""

    token: Token
    email: Email
    display_name: Name
    auth_secret: AuthSecret
    kdf: KdfBody
    public_identity: KeyMaterial
    key_bundle: KeyMaterial
    recovery_bundle: KeyMaterial
    client_envelope: KeyMaterial
    therapist_envelope: KeyMaterial


class RenewRequest(Strict):
    """``POST /api/invitations/<id>/renew``: ``extend`` also moves the expiry to
    ``CONFIDE_INVITATION_HOURS`` from now."""

    extend: bool = False


class LabelRequest(Strict):
    """``POST /api/conversations/<id>/label``: ``""`` removes the label."""

    label: Label


class ArchiveRequest(Strict):
    """``POST /api/conversations/<id>/archive``."""

    archived: bool


class AssistedRecoveryRequest(Strict):
    """``POST /api/auth/assisted-recovery``: a new identity and its material, made as at
    sign-up, for the account of ``email``; kept pending until a therapist of the client
    confirms it (crypto/SPEC.md, "Assisted recovery")."""

    email: Email
    auth_secret: AuthSecret
    kdf: KdfBody
    public_identity: KeyMaterial
    key_bundle: KeyMaterial
    recovery_bundle: KeyMaterial


Envelope = Annotated[B64, Field(max_length=MAX_ENVELOPE_CHARS)]


class RecoveryEnvelopesRequest(Strict):
    """``POST /api/recoveries/<id>/envelopes`` and ``.../confirm``: epoch keys wrapped to
    the pending recovery's new identity by the confirming therapist. Each envelope names
    its conversation and epoch; a long history travels in several requests."""

    envelopes: Annotated[list[Envelope], Field(max_length=MAX_RECOVERY_ENVELOPES)] = []


class RecoveryConfirmRequest(RecoveryEnvelopesRequest):
    """``POST /api/recoveries/<id>/confirm``: the last envelopes, and the identity
    succession the therapist signed: the client's identity as the therapist's browser knows
    it is replaced by the request's new one (crypto/SPEC.md, "Identity succession")."""

    succession: SuccessionText


# --- answers ------------------------------------------------------------------------------


class CsrfAnswer(Strict):
    csrf_token: str


class PinsAnswer(Strict):
    """``GET`` and ``PUT /api/me/pins``: the person's pin record (crypto/SPEC.md, "Pins"),
    sealed by their own client (null before the first), and its counter (0: none)."""

    record: B64 | None
    counter: Annotated[int, Field(ge=0)]


class IdentityRequest(Strict):
    """``POST /api/me/identity``: the version-2 form of the person's own keys
    (crypto/SPEC.md, "Version 2: an X-Wing key for envelopes"), published at the first
    sign-in after their identity was of version 1."""

    public_identity: KeyMaterial


class IdentityAnswer(Strict):
    """``POST /api/me/identity``: the identity now published; another session's if it
    moved to version 2 first (a client checks it certifies its own keys, and uses it)."""

    public_identity: B64


class PinsRequest(Strict):
    """``PUT /api/me/pins``: a new record, kept only in place of the record whose counter
    is ``previous`` (0: none yet), and only if its own counter is ``previous + 1``."""

    record: Annotated[B64, Field(max_length=MAX_PINS_CHARS)]
    previous: Annotated[int, Field(ge=0, le=2**53 - 2)]


class OkAnswer(Strict):
    ok: bool


class NotificationSettings(Strict):
    """``GET`` and ``POST /api/me/notifications``: whether the member gets an email when a
    message waits and none of their sockets is open (the email says only that much)."""

    email: bool


class IdentityChangeBody(Strict):
    """Why a member's identity is not the one they signed up with: an assisted recovery,
    confirmed by ``confirmed_by`` at ``at`` (the server's word). ``successions`` are the
    identity successions of the confirmed recoveries, oldest first, each signed by the
    therapist who confirmed it: a client accepts an earlier identity, which the member's
    earlier messages and envelopes are signed with, only from one that verifies under that
    therapist's identity as it knows it (crypto/SPEC.md, "Assisted recovery")."""

    reason: Literal["recovery"]
    # None (and an empty name): the confirming therapist's account no longer exists.
    confirmed_by: UserId | None
    confirmed_by_name: str
    at: Time
    successions: list[SuccessionText]


class MemberBody(Strict):
    """A person as others see them. ``identity_changed``: only for someone whose identity
    an assisted recovery changed (left out otherwise)."""

    id: UserId
    display_name: str
    role: RoleName
    public_identity: B64
    identity_changed: IdentityChangeBody | None = Field(
        default=None, exclude_if=lambda value: value is None
    )


class CrisisLineBody(Strict):
    """A number the practice tells its clients to call or text in a crisis."""

    label: str
    number: str


class PracticeBody(Strict):
    """The practice as its members see it: its crisis lines are shown beside every
    conversation, its reply-time promise under a client's composer."""

    id: int
    name: str
    time_zone: str
    crisis_lines: list[CrisisLineBody]
    reply_promise: str


class AgreementBody(Strict):
    """A version of the messaging agreement the user accepted, and when."""

    version: AgreementVersion
    accepted_at: Time


class MeBody(MemberBody):
    """The signed-in person, with their own (wrapped) keys."""

    email: str
    practice: PracticeBody
    kdf: KdfBody
    key_bundle: B64
    agreement: AgreementBody | None
    # A therapist or admin without a second factor: enrol one before anything else
    # (docs/protocol.md, "Second factors").
    second_factor_enrolment_required: bool = False


class RecoveryKdfBody(Strict):
    """The Argon2id parameters a recovering client derives its new password with; it
    makes the salt itself. The bounds a client accepts are those of ``crypto.KdfParams``."""

    opslimit: int
    memlimit: int
    algorithm: Literal["argon2id13"] = "argon2id13"


class RecoverBeginAnswer(Strict):
    """``POST /api/auth/recover/begin``: what the recovery key opens, and a challenge to
    sign. The same shape, stable per email, for an email with no account. ``keys`` are the
    account's ``sign_pk || enc_pk`` (64 bytes), never its whole identity: a version-2
    identity's time would tell a real account from a made-up one."""

    challenge: Challenge
    keys: Annotated[str, Field(min_length=86, max_length=86, pattern=r"^[A-Za-z0-9_-]+$")]
    recovery_bundle: B64
    kdf: RecoveryKdfBody
    expires_at: Time


class UserAnswer(Strict):
    """``/api/auth/signin``, ``/api/auth/recover/finish``, ``/api/me``."""

    user: MeBody


class AgreementAnswer(Strict):
    """``POST /api/agreement``: the acceptance recorded."""

    agreement: AgreementBody


class AgreementSection(Strict):
    heading: str
    paragraphs: list[str]


class AgreementText(Strict):
    """A version of a practice's messaging agreement: the limits of confidentiality,
    that messaging is not for emergencies, when to expect a reply."""

    version: AgreementVersion
    published_at: Time
    sections: list[AgreementSection]


class CurrentAgreementAnswer(Strict):
    """``GET /api/agreement``: the practice's current agreement, and the signed-in
    person's acceptance of that version (``null``: not accepted yet)."""

    agreement: AgreementText
    accepted: AgreementBody | None


class InvitationAnswer(Strict):
    """``POST /api/invitations``: the token is shown once."""

    id: Annotated[int, Field(ge=1)]
    token: Token
    path: str
    expires_at: Time
    conversation: uuid.UUID


InvitationState = Literal["pending", "accepted", "expired", "revoked"]


class InvitationItem(Strict):
    """One of a therapist's invitations, as they see it (never its token)."""

    id: Annotated[int, Field(ge=1)]
    client_name: str
    conversation: uuid.UUID
    created_at: Time
    expires_at: Time
    state: InvitationState


class InvitationsAnswer(Strict):
    """``GET /api/invitations``: the therapist's invitations, newest first."""

    invitations: list[InvitationItem]


class LookupAnswer(Strict):
    """``POST /api/invitations/lookup``."""

    conversation: uuid.UUID
    client_name: str
    therapist: MemberBody
    practice: str
    expires_at: Time


class AcceptAnswer(Strict):
    """``POST /api/invitations/accept``: the new account, signed in."""

    user: MeBody
    conversation: uuid.UUID


class EnvelopeBody(Strict):
    """An epoch's key wrapped to the caller by ``wrapper``."""

    epoch: Epoch
    wrapper: UserId
    envelope: B64


class ConversationBody(Strict):
    id: uuid.UUID
    status: ConversationStatus
    current_epoch: Epoch
    # What the rotation policy needs (crypto/SPEC.md, "Epoch rotation").
    epoch_started_at: Time
    epoch_messages: Seq
    last_seq: Seq
    last_message_at: Time | None
    last_read_seq: Seq
    unread: Seq
    members: list[MemberBody]
    # Each member's read position, by user id (a JSON object's keys are text).
    read_seqs: dict[Annotated[str, Field(pattern=r"^[1-9][0-9]*$")], Seq]
    # The caller's own envelopes, oldest epoch first.
    envelopes: list[EnvelopeBody]
    # The caller's own filing of the conversation, never shown to the other member: their
    # label ("": none), and when they archived it (null: not archived, or archived and
    # written to by the other member since).
    label: Label = ""
    archived_at: Time | None = None
    # When the therapist discharged it (null while active), and when its erasure finished
    # (null until then; docs/protocol.md, "Discharge and erasure").
    discharged_at: Time | None = None
    erased_at: Time | None = None


class ConversationsAnswer(Strict):
    """``GET /api/conversations``: newest activity first."""

    conversations: list[ConversationBody]


class ConversationsPage(Strict):
    """``GET /api/conversations?limit=N``: a page of at most N, newest activity first, and
    the cursor of the next (``?after=``), ``null`` after the last."""

    conversations: list[ConversationBody]
    next: str | None


class ConversationAnswer(Strict):
    """``GET /api/conversations/<id>``."""

    conversation: ConversationBody


class AssistedRecoveryAnswer(Strict):
    """``POST /api/auth/assisted-recovery``: when the request lapses unless a therapist
    confirms it. The same for an email with no account (nothing is kept then)."""

    expires_at: Time


class RecoveryConversation(Strict):
    """A conversation of the client with the therapist, and the epochs whose keys the
    therapist wraps to the new identity (the client's whole history there)."""

    conversation: uuid.UUID
    epochs: list[Epoch]


RecoveryState = Literal["pending", "confirmed", "declined", "replaced", "expired"]


class RecoveryItem(Strict):
    """A pending assisted recovery of one of the therapist's clients."""

    id: Annotated[int, Field(ge=1)]
    client: MemberBody
    new_identity: B64
    requested_at: Time
    expires_at: Time
    conversations: list[RecoveryConversation]


class RecoveriesAnswer(Strict):
    """``GET /api/recoveries``: the pending assisted recoveries of the therapist's clients,
    oldest first."""

    recoveries: list[RecoveryItem]


class RecoveryStagedAnswer(Strict):
    """``POST /api/recoveries/<id>/envelopes``: how many envelopes the therapist has given
    for it so far, and how many epochs still have none."""

    recovery: Annotated[int, Field(ge=1)]
    staged: Seq
    missing: Seq


class RecoveryDecisionAnswer(Strict):
    """``POST /api/recoveries/<id>/confirm`` and ``.../decline``: the request as it now is
    and the client as others now see them."""

    recovery: Annotated[int, Field(ge=1)]
    state: RecoveryState
    client: MemberBody
    conversations: list[uuid.UUID]


class InboxEntryAnswer(Strict):
    """``POST /api/conversations/<id>/label`` and ``.../archive``: the caller's own label
    and archive time of the conversation, as ``ConversationBody`` gives them."""

    conversation: uuid.UUID
    label: Label
    archived_at: Time | None


class ExportRequest(Strict):
    """``POST /api/conversations/<id>/exports``: a member made an export of the
    conversation on their own device (crypto/SPEC.md, "Exports"). Only how many messages
    it holds is said and recorded, never a word of them."""

    messages: Seq


class ExportAnswer(Strict):
    """The export's entry in the audit log: when it was recorded."""

    recorded_at: Time


# The legal bases of a disclosure (crypto/SPEC.md, "Disclosure records").
LegalBasis = Literal[
    "duty_to_protect", "mandated_report", "court_order", "client_authorised", "other_law"
]
# A sealed disclosure record, base64url: at most 8,365 bytes.
MAX_DISCLOSURE_CHARS = 11_154


class DisclosureRequest(Strict):
    """``POST /api/conversations/<id>/disclosures``: the therapist records a disclosure.
    ``id`` is new, made by the therapist's client and bound into ``sealed`` with the
    conversation and ``epoch`` (an epoch the conversation has); ``disclosed_on`` and
    ``legal_basis`` are the plain metadata the audit log keeps, repeated inside the seal."""

    id: uuid.UUID
    disclosed_on: dt.date
    legal_basis: LegalBasis
    epoch: Epoch
    sealed: Annotated[B64, Field(max_length=MAX_DISCLOSURE_CHARS)]


class DisclosureItem(Strict):
    """One disclosure of the accounting: the plain metadata and the sealed description."""

    id: uuid.UUID
    conversation: uuid.UUID
    recorded_by: UserId
    recorded_at: Time
    disclosed_on: dt.date
    legal_basis: LegalBasis
    epoch: Epoch
    sealed: B64


class DisclosureAnswer(Strict):
    """``POST /api/conversations/<id>/disclosures``: the record as stored."""

    disclosure: DisclosureItem


class DisclosuresAnswer(Strict):
    """``GET /api/conversations/<id>/disclosures``: the conversation's accounting of
    disclosures, oldest first, for either member."""

    disclosures: list[DisclosureItem]


# The length of an attachment's stream (crypto/SPEC.md, "Attachments"), in bytes: a whole
# number JavaScript holds exactly.
StreamSize = Annotated[int, Field(ge=1, le=2**53 - 1)]
# The digest of an attachment's stream, BLAKE2b-256 (32 bytes), base64url.
StreamDigest = Annotated[str, Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]


class AttachmentRequest(Strict):
    """``POST /api/conversations/<id>/attachments``: the length of the encrypted stream a
    member is about to upload (``attachment_ciphertext_size`` of the file's size)."""

    size: StreamSize


class AttachmentCompleteRequest(Strict):
    """``POST /api/attachments/<id>/complete``: the digest of the whole stream, as the
    client computed it while encrypting."""

    digest: StreamDigest


class AttachmentBody(Strict):
    """An attachment as the server holds it: who uploaded it where, its stream's length,
    how it is cut in parts (``part_size`` bytes each but the last, ``parts`` of them,
    numbered from 0), which parts are stored, and, once complete, the stream's digest.
    ``expires_at``: when an upload still incomplete is deleted (null once complete)."""

    id: uuid.UUID
    conversation: uuid.UUID
    uploader: UserId
    size: StreamSize
    part_size: Annotated[int, Field(ge=1)]
    parts: Annotated[int, Field(ge=1)]
    stored: list[Annotated[int, Field(ge=0)]]
    complete: bool
    digest: StreamDigest | None
    created_at: Time
    completed_at: Time | None
    expires_at: Time | None


class AttachmentAnswer(Strict):
    """Every attachment endpoint but the content's: the attachment as it now is."""

    attachment: AttachmentBody


class ErrorDetail(ErrorFields):
    code: CodeText
    message: str


class ErrorBody(Strict):
    """Every HTTP error: ``{"error": {"code", "message", ...}}`` with the code's status."""

    error: ErrorDetail

    @classmethod
    def of(cls, error: ApiError) -> ErrorBody:
        detail = ErrorDetail(code=error.code, message=error.message, **error.data)
        return cls(error=detail)


PushEndpoint = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class PushKeys(Strict):
    """A browser's push keys (RFC 8291), unpadded base64url: its P-256 public key (65
    bytes) and its authentication secret (16 bytes)."""

    p256dh: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    auth: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class PushSubscribeRequest(Strict):
    """``POST /api/me/push/subscribe``: the browser's ``PushSubscription.toJSON()``. The
    endpoint must be an https URL of a push service the server allows."""

    endpoint: PushEndpoint
    keys: PushKeys
    expirationTime: int | None = None  # noqa: N815 (the browser's own name)


class PushUnsubscribeRequest(Strict):
    """``POST /api/me/push/unsubscribe``: the endpoint of one of the member's own
    subscriptions."""

    endpoint: PushEndpoint


class PushSettings(Strict):
    """``GET /api/me/push``: the server's VAPID public key, the browser's
    ``applicationServerKey`` (null when this server sends no Web Push), and how many
    browsers of the member are subscribed."""

    public_key: str | None
    subscriptions: int
