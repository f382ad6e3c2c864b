"""The Confide client: what a browser tab does, in asyncio.

It signs in without sending the password, holds the private identity and the conversation
keys, seals every message before it leaves and verifies and opens every message that
arrives. The server sees what it would see from a browser: the authentication secret,
public identities, wrapped keys and ciphertext.

Typical use::

    async with ConfideClient("http://127.0.0.1:8000", state=StateFolder()) as client:
        await client.sign_in(email, password)
        await client.connect()
        seq = await client.send_text(conversation_id, "Hello")
        message = await client.next_message(timeout=5)

The agreement and invitation requests are in ``confide_client.practice``, the state of
each message sent after its ``ack`` in ``confide_client.tracking``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

import crypto
from confide_client import attachments as attachment_files
from confide_client import disclosures as disclosure_records
from confide_client import exports as export_files
from confide_client import practice
from confide_client.backoff import Backoff
from confide_client.errors import (
    AgreementRequiredError,
    ClientClosedError,
    ClientError,
    ConnectionLostError,
    ConversationRefusedError,
    InvalidRequestError,
    InvitationKeyMismatchError,
    KeysError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ReplyTimeoutError,
    SecondFactorRequiredError,
    ServerRefusedError,
    StaleEpochError,
    VerifiedKeyChangedError,
)
from confide_client.http import SESSION_COOKIE, HttpApi
from confide_client.identities import SeenIdentities
from confide_client.inbox import Inbox
from confide_client.keys import KeyRing, unwrap_key_bundle
from confide_client.outbox import Ack, AgreementGate, Outbox, OutgoingMessage, deliver
from confide_client.realtime import Limits, Realtime
from confide_client.records import (
    AcceptedAgreement,
    Account,
    Agreement,
    ClientEvent,
    ConnectionState,
    ConnectionStatus,
    ConversationSummary,
    Disclosure,
    DisclosureRecorded,
    EpochStarted,
    HistoryPage,
    InboxEntry,
    Invitation,
    InvitationDetails,
    InvitationSummary,
    KeyDowngradeRefused,
    Member,
    MessageStatus,
    OrderWarning,
    PeerKeyChanged,
    PeerRecovered,
    ReadReceipt,
    ReceivedMessage,
    RejectedMessage,
    ServerRestored,
    SignUp,
    Typing,
    UnmatchedError,
)
from confide_client.second_factor import Passkey, SecondFactor, finish_sign_in
from confide_client.state import StateFolder
from confide_client.tracking import SentMessages
from confide_client.wire import (
    ConversationData,
    MessageData,
    build,
    decoded,
    parse_account,
    parse_conversation,
    parse_identity,
    parse_kdf,
    parse_member,
    parse_message,
)
from crypto import (
    DEFAULT_KDF_PARAMS,
    AttachmentReference,
    ConversationKey,
    CryptoError,
    IdentityKeyPair,
    KdfParams,
    MessageContent,
    MessageOrder,
    OrderNotice,
    PublicIdentity,
    RecoveryKey,
    b64encode,
    check_invitation_therapist,
    derive_password_keys,
    make_recovery_material,
    make_sign_up_material,
)
from crypto.export import MAX_EXPORT_TIME
from protocol.availability import AvailabilityAnswer, AvailabilitySettings, TherapistAvailability
from protocol.common import describe
from protocol.factors import SecondFactorRequiredAnswer, SignInAnswer
from protocol.http import (
    AcceptAnswer,
    AcceptRequest,
    ConversationAnswer,
    ConversationsAnswer,
    CsrfAnswer,
    ExportAnswer,
    ExportRequest,
    IdentityAnswer,
    IdentityRequest,
    KdfBody,
    LookupAnswer,
    OkAnswer,
    ParamsRequest,
    PinsAnswer,
    PinsRequest,
    RecoverBeginAnswer,
    RecoverBeginRequest,
    RecoverFinishRequest,
    SignInRequest,
    TokenRequest,
)
from protocol.limits import MAX_SYNC
from protocol.to_client import (
    AckFrame,
    ConversationAddedEvent,
    DisclosureRecordedEvent,
    EpochEvent,
    ErrorFrame,
    HistoryReply,
    MessageFrame,
    PongFrame,
    ReadEvent,
    ReadOkFrame,
    RekeyOkFrame,
    ServerFrame,
    SyncPage,
    SyncReply,
    TypingEvent,
)
from protocol.to_server import (
    CLIENT_FRAME_ADAPTER,
    ClientFrame,
    EnvelopeItem,
    HistoryFrame,
    PingFrame,
    ReadFrame,
    RekeyFrame,
    SyncFrame,
    TypingFrame,
)

__all__ = ["ClientStats", "ConfideClient"]

log = logging.getLogger(__name__)

# A conversation whose epoch keeps moving under a message is given up after this many
# re-seals, rather than looping.
_MAX_RESEALS = 3
# This client's own stored messages kept per conversation, to upload again after the
# server was restored from a backup (docs/protocol.md, "Restores").
OWN_MESSAGES_KEPT = 1000
# A reply of the type each request expects.
R = TypeVar("R", PongFrame, HistoryReply, ReadOkFrame, RekeyOkFrame, SyncReply)


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counters of what the client did so far, for tests and the benchmark."""

    acked: int
    duplicate_acks: int
    resends: int
    reseals: int
    received: int
    rejected: int
    syncs: int
    gap_syncs: int
    reconnects: int
    replays: int


@dataclass(slots=True)
class _Conversation:
    """What the client knows of one conversation (members and epochs, not messages)."""

    id: uuid.UUID
    status: str
    current_epoch: int
    last_seq: int
    last_read_seq: int
    unread: int
    members: dict[int, Member]
    read_seqs: dict[int, int]

    def summary(self) -> ConversationSummary:
        return ConversationSummary(
            id=self.id,
            status=self.status,
            current_epoch=self.current_epoch,
            last_seq=self.last_seq,
            last_read_seq=self.last_read_seq,
            unread=self.unread,
            members=tuple(self.members.values()),
            read_seqs=dict(self.read_seqs),
        )


@dataclass(frozen=True, slots=True)
class _SyncWork:
    """Fetch what follows the held position of these conversations (all when ``None``).

    ``generation`` names the connection a full sync belongs to; ``done``, when given,
    is settled once the sync has run.
    """

    conversations: tuple[uuid.UUID, ...] | None
    generation: int = 0
    done: asyncio.Future[None] | None = None


@dataclass(frozen=True, slots=True)
class _OwnMessage:
    """One of this client's own messages as stored: what is uploaded again, the same bytes
    (re-sealed only if its epoch is gone), after the server was restored to before it."""

    client_message_id: uuid.UUID
    epoch: int
    ciphertext: bytes
    text: str
    # Who it was written to: each member's id and identity fingerprint then. It is sealed
    # again (after a restore took its epoch) only to the very same keys.
    members: frozenset[tuple[int, bytes]]
    # The files it presents, sealed again with its text.
    attachments: tuple[AttachmentReference, ...] = ()


@dataclass(frozen=True, slots=True)
class _MessageWork:
    message: MessageData


@dataclass(frozen=True, slots=True)
class _EpochWork:
    frame: EpochEvent


_Work = _SyncWork | _MessageWork | _EpochWork


class ConfideClient:
    """One signed-in user on one server: keys, conversations and a live websocket.

    ``backfill``: after connecting, deliver every stored message of the conversations
    (``True``, a new device restoring its history) or only those newer than what the
    first :meth:`conversations` listing showed (``False``).

    ``state``: the :class:`StateFolder` that keeps, across runs, the peers' public
    identities seen so far (to warn with :class:`PeerKeyChanged` when one changes) and the
    outbox of each account (so that messages not acknowledged when the client stopped, by
    :meth:`close`, a crash or Ctrl-C, are sent again by the next :meth:`connect` as the
    same account on the same server). Without it both are kept for this run only.

    ``seen_identities``: where the peers' identities are kept when no ``state`` is given
    (an :class:`IdentityFile` keeps them across runs); not together with ``state``.

    ``kdf_floor``: the cheapest Argon2id parameters accepted from the server for an
    account (crypto/SPEC.md, "The floor"); the sign-up default unless lowered, which only
    a test against accounts made with cheaper parameters has reason to do.

    ``http_transport``: the httpx transport the HTTP requests go through (the websocket
    does not); httpx's own unless given, which a test does to break a connection on
    purpose.

    What happens is reported on :attr:`events` (see :data:`ClientEvent`), among them every
    change of :attr:`connection` (:class:`ConnectionStatus`) and of each own message's
    state (:class:`MessageStatus`).
    """

    def __init__(
        self,
        server_url: str,
        *,
        ack_timeout: float = 10.0,
        request_timeout: float = 15.0,
        backoff: Backoff | None = None,
        backfill: bool = True,
        heartbeat_seconds: float = 25.0,
        sync_seconds: float = 60.0,
        max_reconnect_attempts: int | None = None,
        seen_identities: SeenIdentities | None = None,
        state: StateFolder | None = None,
        kdf_floor: KdfParams = DEFAULT_KDF_PARAMS,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if state is not None and seen_identities is not None:
            raise ValueError("Give a state folder or seen identities, not both")
        if state is not None:
            seen_identities = state.seen_identities
        self._state = state
        self._http = HttpApi(server_url, timeout=request_timeout, transport=http_transport)
        self.ack_timeout = ack_timeout
        self.request_timeout = request_timeout
        self.backfill = backfill
        self.heartbeat_seconds = heartbeat_seconds
        self.sync_seconds = sync_seconds
        self._backoff = backoff if backoff is not None else Backoff()
        self._max_reconnect_attempts = max_reconnect_attempts
        self._kdf_floor = kdf_floor
        #: The signed-in user (``None`` until :meth:`sign_in` or :meth:`accept_invitation`).
        self.account: Account | None = None
        self._identity: IdentityKeyPair | None = None
        self._keyring = KeyRing()
        self._conversations: dict[uuid.UUID, _Conversation] = {}
        self._seen_identities = seen_identities if seen_identities is not None else SeenIdentities()
        self._identity_scope = ""
        self._listed = False
        #: Everything that happens besides messages, in order: read receipts, typing, new
        #: epochs, warnings, and each change of the connection and of own messages (every
        #: type of :data:`ClientEvent`). Read it with :meth:`next_event` or ``get()``.
        self.events: asyncio.Queue[ClientEvent] = asyncio.Queue()
        self._sent = SentMessages()
        #: The sealed messages not acknowledged yet (``confide_client.outbox``), written
        #: through to the ``state`` folder's outbox file once connected.
        self.outbox = Outbox(on_status=self._on_message_status)
        self._agreement_gate = AgreementGate()
        self.inbox = Inbox(
            self._open_message, self._request_gap_sync, self._verified_order, self._warn_order
        )
        # This client's sending session (crypto/SPEC.md, "Version 2: the sender's order"):
        # a chain id drawn once, and the last counter it used in each conversation.
        self._chain = crypto.new_chain()
        self._counters: dict[uuid.UUID, int] = {}
        # One message of a conversation sealed at a time, in the order written (_queue).
        self._sealing: dict[uuid.UUID, asyncio.Lock] = {}
        # This client's own newest acknowledged message per conversation: number, reference.
        self._own_stored: dict[uuid.UUID, tuple[int, bytes]] = {}
        # Restores (docs/protocol.md, "Restores"): the database generation the last
        # ``ready`` announced, the one whose numbering every held conversation was last
        # checked against, and the conversations checked since the generation changed.
        self._server_generation: str | None = None
        self._checked_generation: str | None = None
        self._restore_checked: set[uuid.UUID] = set()
        # This client's own messages as the server numbered them (the newest
        # OWN_MESSAGES_KEPT per conversation), to upload again after a restore.
        self._own_messages: dict[uuid.UUID, OrderedDict[int, _OwnMessage]] = {}
        # Conversations whose listing may name an older epoch than one held (a restore
        # was seen), and those where that older epoch is not written in: the next message
        # starts a new one.
        self._rollback_allowed: set[uuid.UUID] = set()
        # Conversations where a restore was seen: the highest epoch held before it, and when
        # (ms), for ``_writes_refused``.
        self._rotate_before_writing: dict[uuid.UUID, tuple[int, int]] = {}
        # The members each message sent again after a restore was written to.
        self._reupload_members: dict[uuid.UUID, frozenset[tuple[int, bytes]]] = {}
        # When each epoch began, as its version-2 envelope signs it (ms since 1970).
        self._epoch_times: dict[tuple[uuid.UUID, int], int] = {}
        # The epochs whose key came to this user wrapped with X25519 alone (not X-Wing).
        self._classical_epochs: set[tuple[uuid.UUID, int]] = set()
        self._downgrades_told: set[tuple[uuid.UUID, int]] = set()
        # The person's pins (crypto/SPEC.md, "Pins"), read from the server at each sign-in:
        # the peers' identities seen and verified, by user id, and the record's counter.
        self._pins: dict[int, crypto.Pin] = {}
        self._pins_counter = 0
        self._pin_changes: dict[int, crypto.Pin] = {}
        self._pins_written: asyncio.Task[None] | None = None
        # Conversations where a verified peer's key changed: nothing is sent until the
        # person compares again or accepts it; and the changes already reported.
        self._held_for_key: dict[uuid.UUID, int] = {}
        self._key_changes_told: set[tuple[uuid.UUID, int, bytes]] = set()
        #: Whether the pin record the server served did not open (it was altered).
        self.pins_unreadable = False
        #: Whether the server served an older pin record than this client (or, with a
        #: state folder, this computer) saw: it was rolled back.
        self.pins_rolled_back = False
        self._received = self._rejected = self._syncs = self._gap_sync_count = 0
        self._realtime: Realtime | None = None
        self._work: asyncio.Queue[_Work] = asyncio.Queue()
        self._gap_syncs: set[uuid.UUID] = set()
        self._synced = asyncio.Event()
        self._last_full_sync = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def __repr__(self) -> str:
        who = self.account.id if self.account is not None else "signed out"
        return f"ConfideClient({self._http.base_url!r}, user={who})"

    async def __aenter__(self) -> ConfideClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def identity(self) -> IdentityKeyPair:
        """The signed-in user's private identity (raises if not signed in)."""
        if self._identity is None:
            raise ClientError("Sign in first", code="signed_out")
        return self._identity

    @property
    def limits(self) -> Limits | None:
        """The limits of the server's last ``ready`` frame."""
        return None if self._realtime is None else self._realtime.limits

    @property
    def stats(self) -> ClientStats:
        """Counters of what the client did so far (acks, resends, syncs, reconnects...)."""
        return ClientStats(
            acked=self.outbox.acked,
            duplicate_acks=self.outbox.duplicate_acks,
            resends=self.outbox.resends,
            reseals=self.outbox.reseals,
            received=self._received,
            rejected=self._rejected,
            syncs=self._syncs,
            gap_syncs=self._gap_sync_count,
            reconnects=max(self.connections - 1, 0),
            replays=self.inbox.replays,
        )

    @property
    def server_url(self) -> str:
        """The server's origin (``scheme://host:port``), which names its state files."""
        return self._http.base_url

    @property
    def connection(self) -> ConnectionStatus:
        """The websocket's state now: ``connecting``, ``connected``, ``reconnecting`` (with
        the delay before the next attempt), ``offline`` or ``stopped`` (with the reason).
        Each change is also put on :attr:`events`."""
        if self._realtime is None:
            return ConnectionStatus(ConnectionState.OFFLINE, reason="not_connected")
        return self._realtime.status

    def message_status(self, client_message_id: uuid.UUID) -> MessageStatus | None:
        """The state of a message this client queued in this run (or took up from its
        outbox file): ``pending``, ``sending``, ``sent`` (with its seq), ``read`` or
        ``failed`` (with the reason code); ``None`` for an id it does not know."""
        return self._sent.get(client_message_id)

    def message_statuses(self, conversation_id: uuid.UUID) -> list[MessageStatus]:
        """The states of the conversation's messages this client queued in this run, in
        the order they were queued."""
        return self._sent.of(conversation_id)

    @property
    def connections(self) -> int:
        """How many times the websocket reached ``ready`` (1 + reconnects)."""
        return 0 if self._realtime is None else self._realtime.connections

    @property
    def ended(self) -> ClientError | None:
        """Why the websocket stopped for good, if it did: :class:`SessionEndedError` when
        the server ended the session (signed out, deactivated, secret changed, expired)."""
        return None if self._realtime is None else self._realtime.fatal_error

    # --- accounts ------------------------------------------------------------------------

    async def reach(self) -> None:
        """Asks the server for a CSRF token, and so whether it answers at all, before
        anything else (a password is not asked for a server that is not there). Raises
        :class:`ConnectionLostError`, naming the address, when it does not answer."""
        await self._http.get("/api/csrf", CsrfAnswer)

    async def sign_in(
        self,
        email: str,
        password: str,
        *,
        second_factor: SecondFactor | None = None,
        passkey: Passkey | None = None,
    ) -> Account:
        """Signs in and opens the key bundle; the password never leaves this process.

        An account with a second factor needs ``second_factor``: a code from its
        authenticator app or one of its recovery codes, as text, or a function of the
        methods offered that returns one (asked again after a wrong code, three times in
        all; ``confide_client.second_factor``), or ``passkey``, a function that answers
        the server's WebAuthn request options with a passkey's assertion (used first when
        the account has a passkey). The key bundle is sent only after it.

        The account's Argon2id parameters are checked against the floor before the
        password is used: :class:`~confide_client.WeakParametersError` when the server
        serves cheaper ones.

        Raises :class:`UnauthenticatedError` for a wrong email or password,
        :class:`SecondFactorInvalidError` for a wrong, reused or expired code,
        :class:`SecondFactorRequiredError` when the account needs a second factor that was
        not given (or only has a passkey), or is a therapist's or admin's that must set one
        up in the web portal first, :class:`RateLimitedError` after too many attempts,
        :class:`KeysError` if the key bundle does not open or holds keys other than the
        account's public identity.
        """
        asked = build(lambda: ParamsRequest(email=email), "email")
        await self._http.get("/api/csrf", CsrfAnswer)
        served = await self._http.post("/api/auth/params", asked, KdfBody)
        salt, params = parse_kdf(served, self._kdf_floor)
        keys = await asyncio.to_thread(derive_password_keys, password, salt, params)
        request = build(
            lambda: SignInRequest(email=email, auth_secret=keys.auth_secret_b64()), "sign-in"
        )
        answer = (await self._http.post("/api/auth/signin", request, SignInAnswer)).root
        if isinstance(answer, SecondFactorRequiredAnswer):
            user = await finish_sign_in(self._http, answer, second_factor, passkey)
        else:
            user = answer.user
        if user.second_factor_enrolment_required:
            with contextlib.suppress(ClientError):
                await self._http.post("/api/auth/signout", None, OkAnswer)
            raise SecondFactorRequiredError(
                "This therapist's or admin's account has no second factor yet: set one up "
                "in the web portal first.",
                code="second_factor_enrolment_required",
            )
        account = parse_account(user)
        bundle = decoded(user.key_bundle, "key_bundle")
        try:
            identity = unwrap_key_bundle(keys, bundle, account.identity)
        except CryptoError as exc:
            raise KeysError(
                f"The key bundle does not open to this account's identity: {type(exc).__name__}"
            ) from None
        self._become(account, identity)
        await self._publish_x_wing_key()
        await self._load_pins()
        return account

    async def _publish_x_wing_key(self) -> None:
        """At the first sign-in after this person's identity was of version 1: publishes
        the version-2 form of the same keys, which later epochs are wrapped to with X-Wing
        (crypto/SPEC.md, "Version 2: an X-Wing key for envelopes"), and uses the identity
        the server then publishes (another session's, if it was first) once it certifies
        these keys."""
        if self.identity.public.version == crypto.IDENTITY_VERSION_2:
            return
        upgraded = self.identity.upgraded()
        request = build(
            lambda: IdentityRequest(public_identity=b64encode(upgraded.public.to_bytes())),
            "identity",
        )
        try:
            answer = await self._http.post("/api/me/identity", request, IdentityAnswer)
        except ClientError as exc:
            # Signed in all the same, as in the browser; the next sign-in tries again.
            log.warning("the X-Wing key was not published: %s", exc.code)
            return
        published = parse_identity(answer.public_identity, "public_identity")
        try:
            identity = self.identity.as_published(published)
        except CryptoError as exc:
            raise KeysError(
                f"The server published another identity than these keys': {type(exc).__name__}"
            ) from None
        if published.version != crypto.IDENTITY_VERSION_2:
            raise KeysError("The server answered the X-Wing key's publication without it")
        if self.account is not None:
            self._become(dataclasses.replace(self.account, identity=published), identity)

    async def recover_password(
        self,
        email: str,
        recovery_key: str,
        new_password: str,
        *,
        second_factor: SecondFactor | None = None,
        passkey: Passkey | None = None,
    ) -> Account:
        """Forgot password: sets ``new_password`` with the recovery key, and signs in.

        The recovery key stands for the password, never for the second factor: an account
        with one needs ``second_factor`` or ``passkey`` as for :meth:`sign_in`, and the new
        password is stored only when it passes. The new password's Argon2id parameters are
        the server's suggestion, never below this client's default.

        The recovery key (as written down, in any case, with or without dashes) is read
        first: a typo raises :class:`InvalidRequestError` with the code
        ``recovery_key_mistyped`` before anything is sent or derived. The server then
        hands out the account's recovery copy of the keys and a challenge; the key opens
        the copy here, the identity is wrapped under the new password and signs the new
        material, and only that material and the signature are sent, never the recovery
        key or a password (crypto/SPEC.md, "Recovery"). The identity does not change, so
        peers see no key change; every other session of the account ends and its sockets
        close. The recovery key stays valid.

        Raises :class:`KeysError` if the key does not open the keys (a wrong key, or an
        email with no account: both look the same), :class:`ServerRefusedError` with the
        code ``recovery_challenge_invalid`` (the challenge expired or was used: call again)
        or ``recovery_proof_invalid``, :class:`RateLimitedError` after too many attempts,
        :class:`InvalidRequestError` for an empty new password or a malformed email.
        """
        try:
            key = RecoveryKey.from_display(recovery_key)
        except CryptoError as exc:
            raise InvalidRequestError(
                f"{exc}. Compare each group with the key you wrote down.",
                code="recovery_key_mistyped",
            ) from None
        if not isinstance(new_password, str) or not new_password:
            raise InvalidRequestError("The new password must not be empty")
        asked = build(lambda: RecoverBeginRequest(email=email), "email")
        await self._http.get("/api/csrf", CsrfAnswer)
        begun = await self._http.post("/api/auth/recover/begin", asked, RecoverBeginAnswer)
        try:
            served = KdfParams(begun.kdf.opslimit, begun.kdf.memlimit)
        except CryptoError as exc:
            raise ProtocolError(f"Refused key derivation parameters: {exc}") from None
        # A server cannot weaken the derivation of the new password.
        params = KdfParams(
            max(served.opslimit, DEFAULT_KDF_PARAMS.opslimit),
            max(served.memlimit, DEFAULT_KDF_PARAMS.memlimit),
        )
        expected = decoded(begun.keys, "keys")
        bundle = decoded(begun.recovery_bundle, "recovery_bundle")
        challenge = decoded(begun.challenge, "challenge")
        try:
            material = await asyncio.to_thread(
                make_recovery_material,
                key,
                bundle,
                expected,
                new_password,
                challenge=challenge,
                email=email,
                params=params,
            )
        except (crypto.DecryptionError, crypto.BindingError):
            raise KeysError(
                "The recovery key does not open this account's keys: check the email and the key"
            ) from None
        except CryptoError as exc:
            raise ProtocolError(f"The recovery material cannot be made: {exc}") from None
        claim = material.claim
        request = build(
            lambda: RecoverFinishRequest(
                email=email,
                challenge=begun.challenge,
                salt=b64encode(claim.salt),
                opslimit=claim.params.opslimit,
                memlimit=claim.params.memlimit,
                auth_secret=b64encode(claim.auth_secret),
                key_bundle=b64encode(claim.key_bundle),
                proof=b64encode(material.proof),
            ),
            "recovery",
        )
        answer = (await self._http.post("/api/auth/recover/finish", request, SignInAnswer)).root
        if isinstance(answer, SecondFactorRequiredAnswer):
            user = await finish_sign_in(self._http, answer, second_factor, passkey)
        else:
            user = answer.user
        account = parse_account(user)
        try:
            identity = material.identity.as_published(account.identity)
        except CryptoError:
            raise KeysError(
                "The server answered with another identity than the one recovered"
            ) from None
        self._become(account, identity)
        await self._publish_x_wing_key()
        await self._load_pins()
        return account

    async def lookup_invitation(self, fragment: str) -> InvitationDetails:
        """What an invitation says (whom it is from, the conversation it opens), given its
        link's fragment (what follows ``#``: the token and the therapist's fingerprint).

        Raises :class:`InvalidRequestError` (``invitation_link_incomplete``), before any
        request, for a fragment without the fingerprint or otherwise malformed, and
        :class:`InvitationKeyMismatchError` when the therapist identity the server serves
        is not the one the link names.
        """
        return await self._lookup_invitation(*_invitation_parts(fragment))

    async def _lookup_invitation(self, token: str, expected: bytes) -> InvitationDetails:
        """The lookup of ``token``, its therapist checked against the link's fingerprint."""
        request = build(lambda: TokenRequest(token=token), "invitation token")
        answer = await self._http.post("/api/invitations/lookup", request, LookupAnswer)
        therapist = parse_member(answer.therapist)
        try:
            check_invitation_therapist(expected, therapist.identity)
        except CryptoError:
            raise InvitationKeyMismatchError(
                "The therapist's key the server gave does not match the one in the invitation"
                " link, so no account was made. Tell your therapist, by phone or in a session,"
                " before using this portal"
            ) from None
        return InvitationDetails(
            conversation=answer.conversation,
            client_name=answer.client_name,
            therapist=therapist,
            practice=answer.practice,
            expires_at=answer.expires_at,
        )

    async def accept_invitation(
        self,
        fragment: str,
        email: str,
        display_name: str,
        password: str,
        *,
        kdf_params: KdfParams = DEFAULT_KDF_PARAMS,
    ) -> SignUp:
        """Signs up through an invitation, given its link's fragment, and signs in.

        Makes the new identity and the conversation's epoch-0 key here, wraps that key to
        the new identity and to the therapist's identity, once the server's copy of it
        matches the fingerprint in the link (:meth:`lookup_invitation` says what is
        refused), and returns the recovery key's display form, to show once.
        """
        token, expected = _invitation_parts(fragment)
        details = await self._lookup_invitation(token, expected)
        material = await asyncio.to_thread(make_sign_up_material, password, kdf_params)
        epoch_key = ConversationKey.generate()
        conversation = details.conversation
        created_at = _now_ms()
        client_envelope = crypto.wrap_conversation_key(
            epoch_key, conversation, 0, material.public_identity, material.identity, created_at
        )
        therapist_envelope = crypto.wrap_conversation_key(
            epoch_key, conversation, 0, details.therapist.identity, material.identity, created_at
        )
        request = build(
            lambda: AcceptRequest(
                token=token,
                email=email,
                display_name=display_name,
                auth_secret=b64encode(material.auth_secret),
                kdf=KdfBody(
                    salt=b64encode(material.salt),
                    opslimit=material.params.opslimit,
                    memlimit=material.params.memlimit,
                ),
                public_identity=b64encode(material.public_identity.to_bytes()),
                key_bundle=b64encode(material.key_bundle),
                recovery_bundle=b64encode(material.recovery_bundle),
                client_envelope=b64encode(client_envelope),
                therapist_envelope=b64encode(therapist_envelope),
            ),
            "sign-up",
        )
        answer = await self._http.post("/api/invitations/accept", request, AcceptAnswer)
        account = parse_account(answer.user)
        if account.identity != material.public_identity:
            raise KeysError("The server answered with another identity than the one made here")
        if answer.conversation != conversation:
            raise ProtocolError("The server opened another conversation than the invitation's")
        self._become(account, material.identity)
        await self._load_pins()
        self._keyring.add(conversation, 0, epoch_key)
        self._epoch_times[(conversation, 0)] = created_at
        return SignUp(account, conversation, recovery_key=material.recovery_key.display())

    async def create_invitation(self, client_name: str) -> Invitation:
        """A therapist invites a client; share the link (the portal's address and ``path``,
        which carries the token and this therapist's fingerprint) with them once. Its
        ``id`` names it in :meth:`invitations` and :meth:`revoke_invitation`."""
        return await practice.create_invitation(self._http, client_name, self.identity.public)

    async def invitations(self) -> list[InvitationSummary]:
        """A therapist's invitations, newest first, with their state (``pending``,
        ``accepted``, ``expired``, ``revoked``); never their tokens."""
        return await practice.list_invitations(self._http)

    async def revoke_invitation(self, invitation_id: int) -> InvitationSummary:
        """Withdraws one of the therapist's pending invitations: its link no longer works.
        Returns the invitation as it now stands."""
        return await practice.revoke_invitation(self._http, invitation_id)

    async def renew_invitation(self, invitation_id: int, *, extend: bool = False) -> Invitation:
        """A new link for one of the therapist's pending invitations (the server keeps only
        a hash of a token, so the first link cannot be shown again); the link given before
        stops working. ``extend`` also moves the expiry to a full lifetime from now.
        Raises :class:`InvitationInvalidError` for one no longer pending."""
        return await practice.renew_invitation(
            self._http, invitation_id, self.identity.public, extend=extend
        )

    async def label_conversation(self, conversation_id: uuid.UUID, label: str) -> InboxEntry:
        """The therapist's own name for the client of a conversation, in their inbox
        (``""`` removes it). It is kept in plaintext on the server, like the name on an
        invitation; the client never sees it."""
        return await practice.set_inbox_entry(self._http, conversation_id, label=label)

    async def archive_conversation(
        self, conversation_id: uuid.UUID, archived: bool = True
    ) -> InboxEntry:
        """Archives a conversation in the therapist's inbox, or brings it back. Messages
        still arrive and go; the client is not told."""
        return await practice.set_inbox_entry(self._http, conversation_id, archived=archived)

    async def discharge_conversation(self, conversation_id: uuid.UUID) -> None:
        """The therapist discharges the conversation: read-only for both members from now
        on, its history still readable and exportable for the practice's retention. Every
        send after it, and every message still waiting in the outbox, is refused with
        :class:`ConversationClosedError`."""
        await practice.discharge(self._http, conversation_id)
        known = self._conversations.get(conversation_id)
        if known is not None:
            known.status = "discharged"

    # --- the accounting of disclosures ----------------------------------------------------

    async def record_disclosure(
        self,
        conversation_id: uuid.UUID,
        *,
        disclosed_on: date,
        legal_basis: str,
        recipient: str,
        information: str,
        purpose: str,
    ) -> Disclosure:
        """The therapist records a disclosure made outside the conversation, for the client's
        accounting of disclosures: the day, the legal basis (one of
        ``crypto.LEGAL_BASES``: ``duty_to_protect``, ``mandated_report``, ``court_order``,
        ``client_authorised``, ``other_law``), to whom, what was disclosed and why.

        The three texts are sealed to the conversation in its current epoch and signed
        with this identity (crypto/SPEC.md, "Disclosure records"): the client reads them,
        the server cannot. The date and the basis are also plain metadata on the server,
        in its audit log. Raises :class:`InvalidRequestError` for a description off the
        rules (an empty text, a control character other than a line break, over 8,188
        bytes), and ``conversation_closed`` once the conversation is no longer active."""
        description = disclosure_records.describe(
            disclosed_on, legal_basis, recipient, information, purpose
        )
        record_id = uuid.uuid4()
        for attempt in range(2):
            state = await self._known(conversation_id)
            epoch = state.current_epoch
            key = await self._key_for(conversation_id, epoch)
            request = disclosure_records.seal(
                description, key, conversation_id, epoch, self.identity, record_id
            )
            try:
                item = await disclosure_records.record(self._http, conversation_id, request)
            except StaleEpochError:
                if attempt:
                    raise
                await self.conversations()  # a new epoch began: seal in it
                continue
            return Disclosure(
                id=item.id,
                conversation=item.conversation,
                recorded_by=item.recorded_by,
                recorded_at=item.recorded_at,
                disclosed_on=item.disclosed_on,
                legal_basis=item.legal_basis,
                epoch=item.epoch,
                description=description,
            )
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def disclosures(self, conversation_id: uuid.UUID) -> list[Disclosure]:
        """The conversation's accounting of disclosures, oldest first, each opened and
        checked: signed by the conversation's therapist, bound to its conversation, epoch
        and id, with the date and basis the server lists. A record that does not open is
        listed with ``description`` ``None`` and its ``problem``, never left out."""
        items = await disclosure_records.list_items(self._http, conversation_id)
        state = await self._known(conversation_id)
        opened = []
        for item in items:
            member = state.members.get(item.recorded_by)
            if member is None:
                await self.conversations()  # perhaps a member this client has not listed
                state = await self._known(conversation_id)
                member = state.members.get(item.recorded_by)
            recorder = (
                (member.identity, *member.earlier)
                if member is not None and member.role == "therapist"
                else None
            )
            key = self._keyring.get(conversation_id, item.epoch)
            if key is None and recorder is not None:
                with contextlib.suppress(KeysError):
                    key = await self._key_for(conversation_id, item.epoch)
            opened.append(disclosure_records.open_item(item, key, recorder))
        return opened

    async def availability(self, conversation_id: uuid.UUID) -> TherapistAvailability | None:
        """The availability of the conversation's therapist: the reply time, whether they
        are away and until when, their office hours as instants of the coming week and
        whether those are on now (``protocol.availability.TherapistAvailability``)."""
        return await practice.availability(self._http, conversation_id)

    async def set_availability(self, settings: AvailabilitySettings) -> AvailabilityAnswer:
        """A therapist replaces their availability (``protocol.availability``): office hours
        in the practice's time zone, reply time, away status and automatic reply. A schedule
        that overlaps itself is refused (:class:`InvalidRequestError`) and nothing
        changes."""
        return await practice.set_availability(self._http, settings)

    # --- the messaging agreement ---------------------------------------------------------

    async def agreement(self) -> Agreement:
        """The practice's current messaging agreement (text and version), and whether this
        user accepted that version. A client who has not cannot send: the server answers
        ``agreement_required`` (:class:`AgreementRequiredError`)."""
        return await practice.current_agreement(self._http)

    async def accept_agreement(self, version: str) -> AcceptedAgreement:
        """Records that the client accepted this version of the agreement (show its text
        first: :meth:`agreement`). Messages held back by ``agreement_required`` then go,
        with the same ids and bytes."""
        accepted = await practice.accept_agreement(self._http, version)
        if self.account is not None:
            self.account = replace(self.account, agreement=accepted)
        self._agreement_gate.accepted()
        return accepted

    async def sign_out(self) -> None:
        """Ends the session on the server (which closes its sockets), then closes this
        client and forgets the keys. Sign in again with a new client. Messages still in the
        ``state`` folder's outbox file stay there (sealed), for the account's next client;
        :meth:`discard` drops one on purpose."""
        with contextlib.suppress(ClientError):
            await self._http.post("/api/auth/signout", None, OkAnswer)
        self._http.forget_cookies()
        await self.close()
        self._identity = None
        self.account = None
        self._keyring.clear()
        self._pins.clear()
        self._pin_changes.clear()

    def _become(self, account: Account, identity: IdentityKeyPair) -> None:
        scope = f"{self._http.base_url} {account.id}"
        newer = self._seen_identities.newer_form(scope, account.id, account.identity)
        if newer is not None:
            # The server serves an older form of this person's own keys than this computer
            # saw: the X-Wing one stays theirs, and keys wrapped without it are refused.
            log.warning("the server serves an older form of this account's identity")
            identity = identity.as_published(newer)
            account = dataclasses.replace(account, identity=newer)
        self.account = account
        self._identity = identity
        self._identity_scope = scope
        self._seen_identities.remember(self._identity_scope, account.id, account.identity)

    # --- conversations and keys ----------------------------------------------------------

    async def conversations(self) -> list[ConversationSummary]:
        """Fetches the user's conversations and unwraps every new epoch key in them."""
        answer = await self._http.get("/api/conversations", ConversationsAnswer)
        listed = []
        for body in answer.conversations:
            try:
                listed.append(self._absorb(parse_conversation(body)))
            except ConversationRefusedError:
                log.warning(
                    "refused a conversation whose members are not one client and one therapist"
                )
        # A conversation the server no longer lists (membership ended) is not followed.
        ids = {state.id for state in listed}
        for conversation in [c for c in self._conversations if c not in ids]:
            del self._conversations[conversation]
            self.inbox.forget(conversation)
        self._listed = True
        return [state.summary() for state in listed]

    async def conversation(self, conversation_id: uuid.UUID) -> ConversationSummary:
        """Fetches one conversation (``NotFoundError`` if it is not the user's)."""
        answer = await self._http.get(f"/api/conversations/{conversation_id}", ConversationAnswer)
        if answer.conversation.id != conversation_id:
            raise ProtocolError("The server answered with another conversation than asked for")
        return self._absorb(parse_conversation(answer.conversation)).summary()

    def conversation_key(self, conversation_id: uuid.UUID, epoch: int) -> ConversationKey:
        """An epoch key this client holds (raises :class:`KeysError` if it holds none)."""
        key = self._keyring.get(conversation_id, epoch)
        if key is None:
            raise KeysError(f"No key for epoch {epoch} of this conversation")
        return key

    def verify_peer(self, conversation_id: uuid.UUID, user_id: int) -> None:
        """The person compared the safety number with the member in person and it matched:
        the member's identity as served now is pinned as verified, in the record every
        client of the person reads (crypto/SPEC.md, "Pins"). If it changes later, nothing
        is sent in the conversation until the person compares again or accepts the change.
        A conversation held for a changed key is released."""
        member = self._conversations[conversation_id].members[user_id]
        self._pin(user_id, member.identity, verified=True)
        self._held_for_key.pop(conversation_id, None)

    def accept_peer_key(self, conversation_id: uuid.UUID, user_id: int) -> None:
        """The person accepts the member's changed key without comparing: it is pinned as
        seen, not verified, and the conversation is released."""
        member = self._conversations[conversation_id].members[user_id]
        self._pin(user_id, member.identity, verified=False)
        self._held_for_key.pop(conversation_id, None)

    def is_verified(self, conversation_id: uuid.UUID, user_id: int) -> bool:
        """Whether the member's identity as served now is the one the person verified."""
        member = self._conversations[conversation_id].members[user_id]
        pin = self._pins.get(user_id)
        return pin is not None and pin.verified and pin.fingerprint == member.identity.fingerprint()

    async def flush_pins(self) -> None:
        """Waits until every change of the person's pins has been written to the server."""
        while self._pins_written is not None and not self._pins_written.done():
            await asyncio.shield(self._pins_written)

    async def _load_pins(self) -> None:
        """Reads the person's pin record (sign-in), before any peer's identity is trusted.
        A record that does not open is reported (``pins_unreadable``) and replaced at the
        next write, never read as pins."""
        self._pins, self._pins_counter = {}, 0
        self._pin_changes.clear()
        self.pins_unreadable = False
        counter, pins = await self._read_pins()
        self._pins_counter = counter
        highest = self._seen_identities.pins_counter(self._identity_scope)
        # A record older than one this computer saw: the server rolled it back (its pins are
        # still the person's own, so they are used, and the person is told).
        self.pins_rolled_back = counter < highest
        if self.pins_rolled_back:
            log.warning(
                "the server served pin record %d; this computer saw record %d", counter, highest
            )
        else:
            self._seen_identities.saw_pins(self._identity_scope, counter)
        if pins is None:
            self.pins_unreadable = counter > 0
            return
        self._pins = {pin.user_id: pin for pin in pins}

    async def _read_pins(self) -> tuple[int, list[crypto.Pin] | None]:
        """The pin record's counter and pins; None for pins when there is no record or it
        did not open (it was altered)."""
        answer = await self._http.get("/api/me/pins", PinsAnswer)
        if answer.record is None:
            return answer.counter, None
        try:
            opened = crypto.open_pins(decoded(answer.record, "record"), self.identity)
        except CryptoError as exc:
            log.warning("the pin record did not open: %s", type(exc).__name__)
            return answer.counter, None
        return answer.counter, list(opened.pins)

    async def _merge_pins(self) -> None:
        """Another session wrote the record: its pins are added to these, never in place
        of them (a record served without a pin does not drop it here); for a user pinned
        both here and there, a verification of the same key wins, and otherwise the newer
        pin. A record that went back (a lower counter) is refused."""
        counter, pins = await self._read_pins()
        if counter < self._pins_counter:
            self.pins_rolled_back = True
            raise KeysError("The server served an older pin record than this client wrote")
        self._pins_counter = counter
        for theirs in pins or []:
            mine = self._pins.get(theirs.user_id)
            local = self._pin_changes.get(theirs.user_id)
            if mine is None or (local is None and mine.at <= theirs.at):
                self._pins[theirs.user_id] = theirs
            elif local is not None and local.fingerprint == theirs.fingerprint and theirs.verified:
                self._pins[theirs.user_id] = self._pin_changes[theirs.user_id] = theirs
            elif (
                local is not None
                and local.fingerprint != theirs.fingerprint
                and (theirs.at > local.at)
            ):
                self._pins[theirs.user_id] = theirs
                del self._pin_changes[theirs.user_id]

    def _compare_with_pins(self, conversation: uuid.UUID, member: Member) -> None:
        """A member's served identity against what the person saw before: the pin, and the
        identity file of this computer when there is one."""
        fingerprint = member.identity.fingerprint()
        pin = self._pins.get(member.id)
        # The pin is what the person saw, wherever they signed in; this computer's file
        # speaks only for a peer without one.
        if pin is not None:
            before = pin.fingerprint
        else:
            seen = self._seen_identities.seen(self._identity_scope, member.id)
            before = seen.fingerprint() if seen is not None else fingerprint
        if before == fingerprint:
            if pin is None:
                self._pin(member.id, member.identity, verified=False)
            return
        earlier = {identity.fingerprint() for identity in member.earlier}
        told = (conversation, member.id, fingerprint)
        if pin is not None and pin.verified:
            # Held, even after a recovery: the person compares the new key, or accepts it.
            self._held_for_key[conversation] = member.id
            if told not in self._key_changes_told:
                log.warning("the verified identity of member %d has changed", member.id)
                self.events.put_nowait(PeerKeyChanged(conversation, member.id, verified=True))
        elif member.confirmed_by is not None and before in earlier:
            log.info("member %d was recovered, confirmed by a therapist", member.id)
            self.events.put_nowait(PeerRecovered(conversation, member.id, member.confirmed_by))
            self._pin(member.id, member.identity, verified=False)
        else:
            if told not in self._key_changes_told:
                log.warning("the public identity of member %d has changed", member.id)
                self.events.put_nowait(PeerKeyChanged(conversation, member.id))
            self._pin(member.id, member.identity, verified=False)
        self._key_changes_told.add(told)

    def _pin(self, user_id: int, identity: PublicIdentity, *, verified: bool) -> None:
        pin = crypto.Pin(user_id, identity.fingerprint(), verified, int(time.time()))
        self._pins[user_id] = pin
        self._pin_changes[user_id] = pin
        if self._pins_written is None or self._pins_written.done():
            self._pins_written = self._spawn(self._write_pins(), "confide-pins")

    async def _write_pins(self) -> None:
        """Writes the pins in place of the record last read; when another session wrote
        meanwhile (``pins_changed``), reads it, keeps the changes made here over it, and
        writes again."""
        for _ in range(3):
            if not self._pin_changes or self._identity is None:
                return
            written = dict(self._pin_changes)
            record = crypto.seal_pins(self.identity, self._pins_counter + 1, self._pins.values())
            request = PinsRequest(record=b64encode(record), previous=self._pins_counter)
            try:
                answer = await self._http.put("/api/me/pins", request, PinsAnswer)
            except ServerRefusedError as exc:
                if exc.code != "pins_changed":
                    log.warning("the pins could not be written: %s", exc.code)
                    return
                try:
                    await self._merge_pins()
                except ClientError as failure:
                    log.warning("the pins could not be merged: %s", failure.code)
                    return
                continue
            except ClientError as exc:
                log.warning("the pins could not be written: %s", exc.code)
                return
            self._pins_counter = answer.counter
            self._seen_identities.saw_pins(self._identity_scope, answer.counter)
            for user_id, pin in written.items():
                if self._pin_changes.get(user_id) == pin:
                    del self._pin_changes[user_id]
        log.warning("the pins kept changing under this client; written at the next change")

    def safety_number(self, conversation_id: uuid.UUID, user_id: int) -> str:
        """The safety number with a member, grouped for reading aloud."""
        member = self._conversations[conversation_id].members[user_id]
        number = crypto.safety_number(self.identity.public, member.identity)
        return crypto.format_safety_number(number)

    def _absorb(self, data: ConversationData) -> _Conversation:
        refuse_unless_two_people(data, self.account.id if self.account else None)
        identity = self.identity
        known = self._conversations.get(data.id)
        members = {member.id: self._with_earlier(member, data) for member in data.members}
        for member in list(members.values()):
            newer = self._seen_identities.newer_form(
                self._identity_scope, member.id, member.identity
            )
            if newer is not None:
                # An older form of keys seen with an X-Wing key: nothing is wrapped to it
                # without X-Wing (an honest server then refuses the epoch, which is said).
                log.warning("the server serves an older form of member %d's identity", member.id)
                member = members[member.id] = dataclasses.replace(member, identity=newer)
            if self.account is None or member.id != self.account.id:
                self._compare_with_pins(data.id, member)
            self._seen_identities.remember(self._identity_scope, member.id, member.identity)
        state = _Conversation(
            id=data.id,
            status=data.status,
            current_epoch=data.current_epoch,
            last_seq=data.last_seq,
            last_read_seq=data.last_read_seq,
            unread=data.unread,
            members=members,
            read_seqs=data.read_seqs,
        )
        if known is not None and data.current_epoch < known.current_epoch:
            if data.id in self._rollback_allowed:
                # The server was restored to before the epochs after this one: their keys
                # go (it numbers its next epochs again), and this older epoch, presented
                # as current, is not written in (crypto/SPEC.md, "Epoch rotation").
                self._keyring.forget_after(data.id, data.current_epoch)
                self._rotate_before_writing[data.id] = (known.current_epoch, _now_ms())
            else:
                state.current_epoch = known.current_epoch
        self._rollback_allowed.discard(data.id)
        self._conversations[data.id] = state
        for user, seq in data.read_seqs.items():
            self._note_read(data.id, user, seq)
        for envelope in data.envelopes:
            if self._keyring.has(data.id, envelope.epoch):
                continue
            wrapper = members.get(envelope.wrapper)
            if wrapper is None:
                log.warning("skipped an envelope wrapped by someone who is not a member")
                continue
            try:
                key = _unwrap_from_any(
                    envelope.envelope, identity, self._signers_of(wrapper), data.id, envelope.epoch
                )
            except CryptoError as exc:
                if isinstance(exc, crypto.DowngradeError):
                    self._refused_downgrade(data.id, envelope.epoch, envelope.wrapper)
                log.warning("an envelope did not open: %s", type(exc).__name__)
                continue
            self._keyring.add(data.id, envelope.epoch, key)
            self._note_epoch_time(data.id, envelope.epoch, envelope.envelope)
        if not self.inbox.is_tracked(data.id):
            # Without backfill, what existed at the first listing is taken as read;
            # a conversation that appears later is followed from its start.
            first_listing = not self._listed
            self.inbox.track(data.id, data.last_seq if first_listing and not self.backfill else 0)
        return state

    def _is_me(self, member: Member) -> bool:
        return self.account is not None and member.id == self.account.id

    def _signers_of(self, wrapper: Member) -> tuple[PublicIdentity, ...]:
        """The identities an envelope ``wrapper`` signed may verify under. What this user
        wrapped is checked against the keys this client holds, never against an identity
        the server lists for them (it could list one of its own, and sign a key of its
        choice with it); the listed one and its earlier ones count only when the listed one
        signs with the held key."""
        if not self._is_me(wrapper):
            return (wrapper.identity, *wrapper.earlier)
        held = self.identity.public
        if wrapper.identity.sign_key == held.sign_key:
            return (held, wrapper.identity, *wrapper.earlier)
        return (held,)

    def _with_earlier(self, member: Member, data: ConversationData) -> Member:
        """``member`` with the earlier identities its successions verifiably lead back to
        (crypto/SPEC.md, "Identity succession"), newest first. A succession counts only
        under the confirming therapist's identity as this client knows it: its own, when
        this user confirmed; the conversation's other member's as this client saw it before
        (the listed one only on first sight), when they did; never the server's word
        alone, and only for a client confirmed by the conversation's therapist. The first
        that does not verify ends the chain."""
        if not member.successions or member.confirmed_by is None or self.account is None:
            return member
        # As the web client: only a client is recovered, and only by the conversation's
        # other member, a therapist.
        other = next((m for m in data.members if m.id != member.id), None)
        if (
            member.role != "client"
            or other is None
            or other.role != "therapist"
            or other.id != member.confirmed_by
        ):
            return member
        if other.id == self.account.id:
            confirmer = self.identity.public
        else:
            seen = self._seen_identities.seen(self._identity_scope, other.id)
            confirmer = seen if seen is not None else other.identity
        earlier: list[PublicIdentity] = []
        expected = member.identity
        for succession in reversed(member.successions):
            try:
                stated = crypto.verify_succession(
                    succession,
                    confirmer,
                    user_id=member.id,
                    confirmer_id=member.confirmed_by,
                    new_identity=expected,
                )
            except CryptoError as exc:
                log.warning("an identity succession did not verify: %s", type(exc).__name__)
                break
            earlier.append(stated.previous_identity)
            expected = stated.previous_identity
        return dataclasses.replace(member, earlier=tuple(earlier))

    async def _known(self, conversation_id: uuid.UUID) -> _Conversation:
        state = self._conversations.get(conversation_id)
        if state is None:
            await self.conversations()
            state = self._conversations.get(conversation_id)
        if state is None:
            raise NotFoundError("No such conversation.")
        return state

    async def _key_for(self, conversation_id: uuid.UUID, epoch: int) -> ConversationKey:
        key = self._keyring.get(conversation_id, epoch)
        if key is None:
            await self.conversations()
            key = self._keyring.get(conversation_id, epoch)
        if key is None:
            raise KeysError(f"No key for epoch {epoch} of this conversation")
        return key

    # --- the websocket -------------------------------------------------------------------

    async def connect(self, timeout: float = 15.0) -> None:
        """Opens the websocket and returns once the first ``sync`` is done.

        From then on the client stays connected (reconnecting with backoff and jitter)
        until :meth:`close` or :meth:`sign_out`.
        """
        self.identity  # noqa: B018 - raises when signed out
        if self._closed:
            raise ClientClosedError("The client was closed")
        if self._state is not None and self.outbox.store is None and self.account is not None:
            # Read before anything goes out: a damaged file stops here, and is kept.
            self.outbox.store = self._state.outbox_file(self._http.base_url, self.account.id)
        if not self._listed:
            await self.conversations()
        if self._realtime is None:
            self._realtime = Realtime(
                self._http.websocket_url,
                origin=self._http.origin,
                cookie=lambda: self._http.cookie(SESSION_COOKIE),
                on_frame=self._on_frame,
                on_ready=self._on_ready,
                on_ack=self._on_ack,
                backoff=self._backoff,
                open_timeout=min(timeout, 10.0),
                max_attempts=self._max_reconnect_attempts,
                on_status=self.events.put_nowait,
            )
            self._spawn(self._process(), "confide-inbox")
            self._spawn(self._heartbeat(), "confide-heartbeat")
            for entry in self.outbox.restore():
                self._recover_text(entry)
                self._start_delivery(entry)
        self._realtime.start()
        await self._realtime.wait_connected(timeout)
        await self.wait_synced(timeout)

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Waits until the ``sync`` that follows the latest (re)connect has finished."""
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            raise ReplyTimeoutError("The first sync did not finish in time") from None

    def drop_connection(self) -> None:
        """Drops the TCP connection abruptly, as a network failure would; the client
        reconnects, syncs and resends its outbox by itself."""
        if self._realtime is not None:
            self._realtime.abort()

    async def close(self) -> None:
        """Closes the socket and the HTTP client; unacknowledged sends raise
        :class:`ClientClosedError` (they may or may not have been stored). With a
        ``state`` folder they stay in its outbox file and go at the next :meth:`connect`."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            # Pins written by now reach every other client of the person.
            await asyncio.wait_for(self.flush_pins(), 5)
        if self._realtime is not None:
            await self._realtime.close()
        self.outbox.release_all(ClientClosedError("The client was closed before the ack"))
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._http.close()

    def _rt(self) -> Realtime:
        if self._realtime is None:
            raise ClientError("Call connect() first", code="not_connected")
        return self._realtime

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _request(self, frame: ClientFrame, reply_type: type[R]) -> R:
        """A request whose repetition is harmless: retried across a reconnect. A reply of
        another type than ``reply_type`` is off the protocol."""
        realtime = self._rt()
        deadline = time.monotonic() + self.request_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReplyTimeoutError(f"No reply to {frame.type} in time")
            await realtime.wait_connected(remaining)
            try:
                reply = await realtime.call(frame, max(deadline - time.monotonic(), 0.1))
            except ConnectionLostError as exc:
                if realtime.fatal_error is not None:
                    raise realtime.fatal_error from exc
                continue
            except RateLimitedError as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            return _expect(reply, reply_type, frame.type)

    async def call(
        self, frame: ClientFrame | dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Sends one frame and returns its reply, for frames this class has no method for
        (and for tests that look at the wire). ``frame`` is a model of
        ``protocol.to_server`` or its JSON form, which must fit the protocol
        (:class:`InvalidRequestError` otherwise); the reply comes back as the JSON form of
        the frame the protocol read. An ``error`` reply raises its
        :class:`ServerRefusedError`."""
        if isinstance(frame, dict):
            try:
                frame = CLIENT_FRAME_ADAPTER.validate_json(json.dumps(frame))
            except ValidationError as exc:
                raise InvalidRequestError(
                    f"The frame is off the protocol: {describe(exc, 'frame')}"
                ) from None
        await self._rt().wait_connected(self.request_timeout)
        reply = await self._rt().call(frame, self.request_timeout if timeout is None else timeout)
        answer: dict[str, Any] = reply.model_dump(mode="json", exclude_none=True)
        return answer

    # --- sending -------------------------------------------------------------------------

    async def send_text(
        self,
        conversation_id: uuid.UUID,
        text: str,
        *,
        timeout: float | None = None,
        attachments: Sequence[AttachmentReference] = (),
    ) -> int:
        """Seals ``text`` and sends it until acknowledged; returns its sequence number.
        With ``attachments`` (files uploaded with :meth:`upload_attachment`) the message
        presents those files too (crypto/SPEC.md, "Message content"); :meth:`send_files`
        does both.

        The message waits in :attr:`outbox` until its ``ack``, and is resent with the same
        bytes after a disconnect, a timeout, or an error of ``protocol.errors.RESEND``
        (``rate_limited``, ``overloaded``, ``unavailable``, ``server_error``). After
        ``stale_epoch`` it is re-sealed under the new epoch with the same client message id.
        ``timeout`` bounds only the wait of this call: the message stays in the outbox and
        is still delivered afterwards.

        Raises :class:`AgreementRequiredError` when the server takes nothing from this
        client until they accept the messaging agreement: the message stays in the outbox
        (``pending``) and goes once :meth:`accept_agreement` is done. Any other refusal
        raises its :class:`ServerRefusedError` and the message leaves the outbox.
        """
        entry = await self._queue(conversation_id, text, tuple(attachments))
        waiting: set[asyncio.Future[Any]] = {entry.acked, entry.held}
        await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if entry.acked.done():
            return entry.acked.result().seq
        if entry.held.done():
            refusal = entry.held.result()
            raise AgreementRequiredError(
                refusal.message,
                status=refusal.status,
                client_message_id=str(entry.client_message_id),
            )
        raise ReplyTimeoutError("The message was not acknowledged in time; it stays in the outbox")

    async def queue_text(
        self,
        conversation_id: uuid.UUID,
        text: str,
        *,
        attachments: Sequence[AttachmentReference] = (),
    ) -> uuid.UUID:
        """Seals ``text`` (and the references of ``attachments``, as :meth:`send_text`),
        puts it in the outbox and returns its client message id at once, without waiting
        for the server; delivery goes on as for :meth:`send_text`. Its progress is reported
        as :class:`MessageStatus` events and by :meth:`message_status`."""
        return (await self._queue(conversation_id, text, tuple(attachments))).client_message_id

    def discard(self, conversation_id: uuid.UUID, client_message_id: uuid.UUID) -> bool:
        """Stops sending a message still in the outbox (one held for the agreement, say)
        and removes it from the outbox file; ``False`` if it is not waiting. A ``send``
        already on its way may still be stored: this gives up, it does not unsend."""
        entry = self.outbox.get(conversation_id, client_message_id)
        if entry is None:
            return False
        self.outbox.discard(entry, ClientError("The message was discarded", code="discarded"))
        return True

    # --- attachments ---------------------------------------------------------------------

    async def upload_attachment(
        self, conversation_id: uuid.UUID, path: str | Path
    ) -> AttachmentReference:
        """Encrypts the file at ``path`` here and uploads its stream to the conversation
        (docs/protocol.md, "Attachments"); returns its reference, for a message to present
        (:meth:`send_text`'s ``attachments``). The file is read and encrypted a piece at a
        time as its parts go, so it is never held in memory whole. It is sent under its
        base name, with the media type its name suggests (``mimetypes``; by default
        ``application/octet-stream``).

        A dropped connection, or a refusal the protocol marks as safe to resend, is waited
        out with a growing pause: the client then asks the server which parts it holds and
        sends only the others, and gives up after a few failures in a row.

        Raises, before anything is sent, :class:`InvalidRequestError` for a file that is
        not there or cannot be read (``file_not_found``, ``file_unreadable``) or is empty
        (``attachment_empty``); and, before any of the file is read,
        :class:`ServerRefusedError` with the code ``attachment_too_large`` (its ``data``
        holds the server's limit, ``max_bytes``), ``quota_exceeded`` (``remaining_bytes``)
        or ``conversation_closed``; :class:`AgreementRequiredError` for a client who has
        not accepted the current agreement."""
        self._refuse_if_held(conversation_id)
        file = attachment_files.local_file(path)
        return await attachment_files.upload(
            self._http, conversation_id, file, pause=self._new_pause()
        )

    async def send_files(
        self,
        conversation_id: uuid.UUID,
        paths: Sequence[str | Path],
        text: str = "",
        *,
        timeout: float | None = None,
    ) -> int:
        """Sends one message that presents the files at ``paths`` (1 to 10), with
        ``text`` (which may be empty): each file is checked, then uploaded
        (:meth:`upload_attachment`), then the message goes as :meth:`send_text` sends one,
        through the outbox. Returns its sequence number. Every file is checked (there,
        readable, not empty) before the first is uploaded; a refusal of one file's upload
        sends no message."""
        self._rt()
        if isinstance(paths, str | Path):
            paths = [paths]  # one file, not the characters of its name
        attachment_files.check_count(paths)
        files = [attachment_files.local_file(path) for path in paths]
        references = []
        for file in files:
            self._refuse_if_held(conversation_id)
            references.append(
                await attachment_files.upload(
                    self._http, conversation_id, file, pause=self._new_pause()
                )
            )
        return await self.send_text(conversation_id, text, timeout=timeout, attachments=references)

    async def save_attachment(
        self, reference: AttachmentReference, folder: str | Path = "."
    ) -> Path:
        """Downloads the file ``reference`` names (one of a
        :class:`ReceivedMessage`'s ``attachments``), opens and checks it here, and saves
        it in ``folder`` (by default the current one) under its name, or ``name (1).ext``,
        ``name (2).ext``... when that is taken: an existing file is never replaced.
        Returns where it was saved; the file is readable by its owner only (0600).

        The bytes go to a temporary file in ``folder`` until the whole stream is checked;
        a dropped download resumes from the byte it stopped at. A stream that does not
        open (altered on the server, or not the one the message named) raises
        :class:`AttachmentUnreadableError`, and the temporary file is deleted: nothing is
        left under the file's name. :class:`InvalidRequestError` (``folder_not_found``)
        for a folder that is not there."""
        if not isinstance(reference, AttachmentReference):
            raise InvalidRequestError("Give one of a received message's attachments")
        return await attachment_files.save(self._http, reference, folder, pause=self._new_pause())

    def _new_pause(self) -> Backoff:
        """A pause between retries of its own, growing as the client's reconnects do."""
        shape = self._backoff
        return Backoff(shape.initial, shape.maximum, shape.factor, shape.jitter)

    def _newest_reference(self, conversation: uuid.UUID) -> bytes:
        """What a new message names as ``previous``: the newest message this client holds
        in the conversation, released by the inbox or its own acknowledged one, whichever
        the server numbered later (crypto/SPEC.md, "Version 2: the sender's order")."""
        candidates = [self.inbox.newest_reference(conversation), self._own_stored.get(conversation)]
        held = [candidate for candidate in candidates if candidate is not None]
        return max(held)[1] if held else bytes(32)

    def _note_own_acked(self, entry: OutgoingMessage, acked: asyncio.Future[Ack]) -> None:
        """An own message acknowledged under its number, with the bytes the entry holds at
        its ack (resealed ones after ``stale_epoch``): held, for the next ``previous``."""
        if acked.cancelled() or acked.exception() is not None:
            return
        seq = acked.result().seq
        known = self._own_stored.get(entry.conversation)
        if known is None or seq > known[0]:
            self._own_stored[entry.conversation] = (
                seq,
                crypto.message_reference(entry.ciphertext),
            )

    def _on_ack(self, frame: AckFrame) -> None:
        """An ``ack`` as it arrives, in the order of the frames around it: the message it
        acknowledges goes to the inbox as the server stored it, with the bytes and epoch it
        went with, since the socket that sent it gets no push of it (docs/protocol.md,
        "Delivery guarantees"). A second ack of it changes nothing there."""
        entry = self.outbox.get(frame.conversation, frame.client_message_id)
        if entry is None or self.account is None:
            return
        stored = MessageData(
            conversation=frame.conversation,
            seq=frame.seq,
            client_message_id=frame.client_message_id,
            epoch=entry.epoch,
            sender=self.account.id,
            ciphertext=entry.ciphertext,
            sent_at=frame.sent_at,
        )
        self._work.put_nowait(_MessageWork(stored))

    def _refused_downgrade(self, conversation: uuid.UUID, epoch: int, wrapper: int) -> None:
        """An envelope wrapped with X25519 alone for an epoch begun after this identity held
        an X-Wing key: refused, said once (crypto/SPEC.md, "Version 3")."""
        if (conversation, epoch) in self._downgrades_told:
            return
        self._downgrades_told.add((conversation, epoch))
        log.warning(
            "refused a key wrapped without X-Wing after this identity held one "
            "(epoch %d, wrapped by member %d)",
            epoch,
            wrapper,
        )
        self.events.put_nowait(KeyDowngradeRefused(conversation, epoch, wrapper))

    def _note_epoch_time(self, conversation: uuid.UUID, epoch: int, envelope: bytes) -> None:
        """Keeps when an epoch began, as its version-2 or 3 envelope signs it, and whether
        its key came wrapped with X25519 alone."""
        info = crypto.parse_envelope(envelope)
        if info.created_at is not None:
            self._epoch_times[(conversation, epoch)] = info.created_at
        if info.version != crypto.ENVELOPE_VERSION_3:
            self._classical_epochs.add((conversation, epoch))
        else:
            self._classical_epochs.discard((conversation, epoch))

    def _due_for_x_wing(self, conversation: uuid.UUID, epoch: int) -> bool:
        """Whether the epoch's key came to this person wrapped with X25519 alone although
        they hold an X-Wing key: the next message starts an epoch wrapped with X-Wing to
        whoever holds one (crypto/SPEC.md, "Version 3: wrapped with X-Wing"), whatever the
        server says of the other members' identities."""
        return (
            self.identity.public.version == crypto.IDENTITY_VERSION_2
            and (conversation, epoch) in self._classical_epochs
        )

    def _epoch_is_over(self, conversation: uuid.UUID, epoch: int) -> bool:
        """Whether the epoch's signed start is as old as the rotation rule allows."""
        created_at = self._epoch_times.get((conversation, epoch))
        if created_at is None:
            return False
        age = max(0.0, (_now_ms() - created_at) / 1000)
        return crypto.epoch_needs_rotation(0, age, False)

    def _writes_refused(self, conversation_id: uuid.UUID, epoch: int) -> bool:
        """Whether nothing new may be written in ``epoch`` after a restore: any epoch up to
        the highest this client held before it, unless this client began it since (a
        ``rekey`` lifts the refusal) or its envelope signs a start after the restore was
        seen. A server cannot then bring back a genuine older epoch as current."""
        refused = self._rotate_before_writing.get(conversation_id)
        if refused is None:
            return False
        highest, seen_at = refused
        if epoch > highest:
            return False
        started = self._epoch_times.get((conversation_id, epoch))
        return started is None or started < seen_at

    def _refuse_if_held(self, conversation_id: uuid.UUID) -> None:
        """Nothing is sealed or wrapped to a verified peer's changed key (crypto/SPEC.md,
        "Pins"); called right before sealing or wrapping, after every wait."""
        if conversation_id in self._held_for_key:
            raise VerifiedKeyChangedError(
                "The key of the person you write to changed since you verified it: compare "
                "the safety number again (verify_peer) or accept the new key "
                "(accept_peer_key) before you write."
            )

    async def _queue(
        self,
        conversation_id: uuid.UUID,
        text: str,
        attachments: tuple[AttachmentReference, ...] = (),
    ) -> OutgoingMessage:
        """Seals the message and puts it in the outbox once every message written before
        it to the conversation is there: one that waits (for its epoch's key, a new epoch)
        is not overtaken by one written after it."""
        lock = self._sealing.setdefault(conversation_id, asyncio.Lock())
        async with lock:
            return await self._seal_and_queue(conversation_id, text, attachments)

    async def _seal_and_queue(
        self,
        conversation_id: uuid.UUID,
        text: str,
        attachments: tuple[AttachmentReference, ...],
    ) -> OutgoingMessage:
        self._rt()
        self._refuse_if_held(conversation_id)
        state = await self._known(conversation_id)
        epoch = state.current_epoch
        refused = (conversation_id, epoch) in self._downgrades_told
        key = None if refused else await self._key_for(conversation_id, epoch)
        if (
            key is None
            or self._writes_refused(conversation_id, epoch)
            or self._epoch_is_over(conversation_id, epoch)
            or self._due_for_x_wing(conversation_id, epoch)
        ):
            # Its envelope signs a start older than the rotation rule allows: an old epoch
            # presented as current is not written in (crypto/SPEC.md, "Epoch rotation");
            # or its key came to this person without X-Wing though they hold an X-Wing key,
            # or was refused as a downgrade.
            epoch = await self.rekey(conversation_id)
            key = await self._key_for(conversation_id, epoch)
        self._refuse_if_held(conversation_id)
        client_message_id = uuid.uuid4()
        counter = self._counters.get(conversation_id, 0) + 1
        try:
            order = MessageOrder(
                chain=self._chain,
                counter=counter,
                sent_at=_now_ms(),
                previous=self._newest_reference(conversation_id),
            )
            plaintext = _content(text, attachments)
            ciphertext = crypto.seal_message(
                plaintext, key, conversation_id, epoch, self.identity, client_message_id, order
            )
        except CryptoError as exc:
            raise ClientError(f"The message cannot be sealed: {exc}", code="bad_message") from None
        self._counters[conversation_id] = counter
        entry = self.outbox.add(
            conversation_id, client_message_id, epoch, ciphertext, text, attachments=attachments
        )
        entry.acked.add_done_callback(functools.partial(self._note_own_acked, entry))
        self._start_delivery(entry)
        return entry

    def _start_delivery(self, entry: OutgoingMessage) -> None:
        delivery = deliver(
            entry,
            self.outbox,
            self._rt(),
            ack_timeout=self.ack_timeout,
            reseal=self._reseal,
            agreement=self._agreement_gate,
        )
        self._spawn(self._guarded(delivery, entry), "confide-send")

    def _recover_text(self, entry: OutgoingMessage) -> None:
        """Opens a message taken up from the outbox file with the user's own identity, as
        the browser does after a reload, so that it can be re-sealed after ``stale_epoch``.
        One that does not open (its key is not held) is still sent as it is."""
        key = self._keyring.get(entry.conversation, entry.epoch)
        if key is None:
            return
        try:
            content = crypto.decode_content(
                crypto.open_message(
                    entry.ciphertext,
                    key,
                    self.identity.public,
                    entry.conversation,
                    entry.epoch,
                    entry.client_message_id,
                )
            )
        except CryptoError as exc:
            log.warning("a message of the outbox file does not open: %s", type(exc).__name__)
            return
        entry.text, entry.attachments = content.text, content.attachments

    def _on_message_status(self, status: MessageStatus) -> None:
        for changed in self._sent.update(status):
            self.events.put_nowait(changed)

    def _note_read(self, conversation: uuid.UUID, user: int, seq: int) -> None:
        """Another member's read position: the own messages it reaches are ``read``."""
        if self.account is not None and user != self.account.id:
            for changed in self._sent.read_up_to(conversation, seq):
                self.events.put_nowait(changed)

    async def _guarded(self, delivery: Awaitable[None], entry: OutgoingMessage) -> None:
        """Runs a delivery; a failure nobody foresaw still settles the sender's wait."""
        try:
            await delivery
        except Exception as exc:
            log.exception("a delivery failed unexpectedly")
            self.outbox.fail(entry, ClientError(f"Delivery failed: {type(exc).__name__}"))

    async def _reseal(self, entry: OutgoingMessage) -> None:
        """After ``stale_epoch``: the new epoch's key, the same text and id, new bytes."""
        if entry.reseals >= _MAX_RESEALS:
            raise StaleEpochError("The conversation's epoch kept changing under this message")
        if entry.text is None:
            raise KeysError("The text of this message is unknown here, so it cannot be re-sealed")
        await self.conversations()
        state = await self._known(entry.conversation)
        written_to = self._reupload_members.get(entry.client_message_id)
        if written_to is not None and written_to != self._members_now(state):
            raise KeysError(
                "The members' keys changed since this message was written: it is not sealed "
                "to the new ones"
            )
        if (
            not self._writes_refused(entry.conversation, state.current_epoch)
            and state.current_epoch == entry.epoch
        ):
            raise StaleEpochError("The server says the epoch is stale but lists it as current")
        try:
            entry.reseal(*await self._sealed_again(entry.conversation, entry))
        except CryptoError as exc:
            raise KeysError(f"The message cannot be re-sealed: {type(exc).__name__}") from None

    # --- other requests ------------------------------------------------------------------

    # --- exports ---------------------------------------------------------------------------

    async def export_conversation(
        self, conversation_id: uuid.UUID, path: str | Path
    ) -> crypto.VerifiedExport:
        """Exports the whole conversation to ``path``: every message is fetched, verified and
        opened here, and written as one printable HTML file with a list of every message
        signed by this identity (crypto/SPEC.md, "Exports"). A message that does not open
        is listed as such, so that its number is no gap. The export is recorded in the
        server's audit log (how many messages, never their words) before the file is
        written, mode 0600: it holds the conversation in plaintext. A discharged
        (read-only) conversation exports as any other. Returns the file's own check."""
        state = await self._known(conversation_id)
        members = {member.role: member for member in state.members.values()}
        if set(members) != {"client", "therapist"}:
            raise KeysError("A conversation is exported between a client and a therapist")
        messages = []
        for data in await self._whole_history(conversation_id):
            sender = state.members.get(data.sender)
            if sender is None:
                raise KeysError("A message of the conversation is from someone not in it")
            opened = await self._open_message(data, report=False)
            time_ms = _milliseconds(data.sent_at)
            signer = text = None
            if opened is not None:
                info = crypto.parse_message(data.ciphertext)
                signer, text = info.sender_sign_pk, _export_text(opened)
                written = None if info.order is None else info.order.sent_at
                if written is not None and written <= MAX_EXPORT_TIME:
                    time_ms = written
            messages.append(crypto.ExportMessage(data.seq, sender.role, time_ms, signer, text))
        data = crypto.make_export(
            self.identity,
            conversation_id,
            client=crypto.ExportMember(members["client"].display_name, members["client"].identity),
            therapist=crypto.ExportMember(
                members["therapist"].display_name, members["therapist"].identity
            ),
            messages=messages,
            exported_at=_now_ms(),
        )
        request = build(lambda: ExportRequest(messages=len(messages)), "export record")
        await self._http.post(
            f"/api/conversations/{conversation_id}/exports", request, ExportAnswer
        )
        export_files.write_export(Path(path), data)
        log.info("exported a conversation: %d messages", len(messages))
        return crypto.verify_export(data, trusted=[self.identity.public])

    def verify_export(
        self,
        path: str | Path,
        *,
        fingerprints: tuple[bytes, ...] = (),
        safety_numbers: tuple[str, ...] = (),
    ) -> crypto.VerifiedExport:
        """Checks an export file, made here or in a browser: its signer must be this
        identity, a member of a conversation this client knows (as the identity it saw for
        them), a peer kept in the state folder, or given by ``fingerprints`` or the members'
        ``safety_numbers``. Raises :class:`crypto.CryptoError` saying what failed, naming each
        message changed, missing or added."""
        trusted = [self.identity.public]
        for known in self._conversations.values():
            trusted.extend(member.identity for member in known.members.values())
        return export_files.verify_export_file(
            Path(path),
            trusted=trusted,
            fingerprints=fingerprints,
            safety_numbers=safety_numbers,
            state=self._state,
        )

    async def _whole_history(self, conversation_id: uuid.UUID) -> list[Any]:
        """Every stored message of the conversation, oldest first, as the server holds them."""
        pages: list[list[Any]] = []
        before: int | None = None
        while True:
            frame = build(
                functools.partial(
                    HistoryFrame, conversation=conversation_id, before=before, limit=1000
                ),
                "history request",
            )
            reply = await self._request(frame, HistoryReply)
            if reply.conversation != conversation_id:
                raise ProtocolError("The history page is another conversation's")
            page = [parse_message(item) for item in reply.messages]
            if any(data.conversation != conversation_id for data in page):
                raise ProtocolError("The history page holds another conversation's message")
            pages.append(page)
            if not reply.has_more or not page:
                break
            lowest = min(data.seq for data in page)
            if before is not None and lowest >= before:
                raise ProtocolError("The history pages do not go back in time")
            before = lowest
        held = {data.seq: data for page in pages for data in page}
        return [held[seq] for seq in sorted(held)]

    async def history(
        self, conversation_id: uuid.UUID, before: int | None = None, limit: int | None = None
    ) -> HistoryPage:
        """A page of messages older than ``before`` (or the newest), verified and opened,
        oldest first. A message that does not verify is left out of the page."""
        frame = build(
            lambda: HistoryFrame(conversation=conversation_id, before=before, limit=limit),
            "history request",
        )
        reply = await self._request(frame, HistoryReply)
        if reply.conversation != conversation_id:
            raise ProtocolError("The history page is another conversation's")
        messages = []
        for item in reply.messages:
            data = parse_message(item)
            if data.conversation != conversation_id:
                raise ProtocolError("The history page holds another conversation's message")
            if data.seq > self.inbox.position(conversation_id):
                self._work.put_nowait(_MessageWork(data))
            opened = await self._open_message(data, report=False)
            if opened is not None:
                messages.append(opened)
        return HistoryPage(
            conversation=conversation_id,
            messages=tuple(messages),
            has_more=reply.has_more,
            last_seq=reply.last_seq,
        )

    async def mark_read(self, conversation_id: uuid.UUID, seq: int) -> int:
        """Tells the members this user has read up to ``seq``; returns the recorded seq."""
        frame = build(lambda: ReadFrame(conversation=conversation_id, seq=seq), "read receipt")
        reply = await self._request(frame, ReadOkFrame)
        return reply.seq

    async def typing(self, conversation_id: uuid.UUID) -> None:
        """Tells the other members this user is typing (no reply; send one every few s)."""
        await self._rt().wait_connected(self.request_timeout)
        await self._rt().send(TypingFrame(conversation=conversation_id))

    async def ping(self) -> float:
        """A round trip to the server; returns its duration in seconds."""
        started = time.perf_counter()
        await self._request(PingFrame(), PongFrame)
        return time.perf_counter() - started

    async def rekey(self, conversation_id: uuid.UUID) -> int:
        """Starts a new epoch: a fresh key wrapped to every member. Returns the epoch."""
        await self.conversations()
        state = await self._known(conversation_id)
        self._refuse_if_held(conversation_id)
        epoch = state.current_epoch + 1
        key = ConversationKey.generate()
        created_at = _now_ms()
        wrapped = {
            member.id: crypto.wrap_conversation_key(
                key, conversation_id, epoch, member.identity, self.identity, created_at
            )
            for member in state.members.values()
        }
        envelopes = [
            EnvelopeItem(recipient=member, envelope=b64encode(envelope))
            for member, envelope in wrapped.items()
        ]
        frame = build(
            lambda: RekeyFrame(conversation=conversation_id, epoch=epoch, envelopes=envelopes),
            "new epoch",
        )
        await self._request(frame, RekeyOkFrame)
        self._keyring.add(conversation_id, epoch, key)
        self._epoch_times[(conversation_id, epoch)] = created_at
        own = wrapped.get(self.account.id if self.account else -1, b"")
        if own[:1] != bytes([crypto.ENVELOPE_VERSION_3]):
            self._classical_epochs.add((conversation_id, epoch))
        # The conversation may have been listed again (a new state) while the reply came.
        state = await self._known(conversation_id)
        state.current_epoch = max(state.current_epoch, epoch)
        return epoch

    async def sync(self) -> None:
        """Fetches whatever follows the held position of every conversation now, and
        returns once what it fetched was delivered to :meth:`next_message`."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._work.put_nowait(_SyncWork(None, generation=-1, done=done))
        await asyncio.wait_for(done, self.request_timeout * 2)

    # --- receiving -----------------------------------------------------------------------

    async def next_message(self, timeout: float | None = None) -> ReceivedMessage:
        """The next verified, decrypted message in sequence order (``TimeoutError`` after
        ``timeout`` seconds)."""
        return await self.inbox.get(timeout)

    async def incoming(self) -> AsyncIterator[ReceivedMessage]:
        """Every verified, decrypted message, in sequence order per conversation."""
        async for message in self.inbox:
            yield message

    async def next_event(self, timeout: float | None = None) -> ClientEvent:
        """The next read receipt, typing notice, epoch change or warning (``TimeoutError``
        after ``timeout`` seconds)."""
        return await asyncio.wait_for(self.events.get(), timeout)

    def position(self, conversation_id: uuid.UUID) -> int:
        """The highest sequence number held, without a gap, in the conversation."""
        return self.inbox.position(conversation_id)

    def _on_ready(self, user: int, limits: Limits, generation: str | None) -> None:
        if self.account is not None and user != self.account.id:
            log.warning("the socket belongs to another user than the signed-in one")
            self.drop_connection()
            return
        # A server older than generations announces none: it changes nothing here.
        if generation is not None and generation != self._server_generation:
            if self._server_generation is not None:
                log.warning("the server announces a new database generation")
            self._server_generation = generation
            self._restore_checked.clear()
        self._synced.clear()
        self._work.put_nowait(_SyncWork(None, generation=self.connections))

    def _on_frame(self, frame: ServerFrame) -> None:
        """Pushes, and replies nobody waits for any more (they arrived after their request
        gave up). Only an ``ack`` settles an outgoing message (``confide_client.outbox``):
        a push or sync page of one's own message goes to the inbox like any other."""
        try:
            if isinstance(frame, MessageFrame):
                self._work.put_nowait(_MessageWork(parse_message(frame)))
            elif isinstance(frame, AckFrame):
                self.outbox.acknowledge(Ack.from_frame(frame))
            elif isinstance(frame, ReadEvent):
                state = self._conversations.get(frame.conversation)
                if state is not None:
                    seen = state.read_seqs.get(frame.user, 0)
                    state.read_seqs[frame.user] = max(seen, frame.seq)
                self.events.put_nowait(ReadReceipt(frame.conversation, frame.user, frame.seq))
                self._note_read(frame.conversation, frame.user, frame.seq)
            elif isinstance(frame, TypingEvent):
                self.events.put_nowait(Typing(frame.conversation, frame.user))
            elif isinstance(frame, EpochEvent):
                self._work.put_nowait(_EpochWork(frame))
            elif isinstance(frame, SyncReply):
                for page in frame.conversations:
                    for item in page.messages:
                        self._work.put_nowait(_MessageWork(parse_message(item)))
            elif isinstance(frame, ConversationAddedEvent):
                # Listed at the next (re)connect or listing: the event carries the id only.
                pass
            elif isinstance(frame, DisclosureRecordedEvent):
                self.events.put_nowait(DisclosureRecorded(frame.conversation, frame.disclosure))
            elif isinstance(frame, ErrorFrame):
                self.events.put_nowait(
                    UnmatchedError(code=str(frame.code), message=frame.message, ref=frame.ref)
                )
        except ProtocolError as exc:
            log.warning("ignored a malformed %s frame: %s", frame.type, exc.message)

    def _request_gap_sync(self, conversation_id: uuid.UUID) -> None:
        if conversation_id not in self._gap_syncs:
            self._gap_syncs.add(conversation_id)
            self._gap_sync_count += 1
            self._work.put_nowait(_SyncWork((conversation_id,)))

    async def _process(self) -> None:
        """The one task that changes what the client holds, so messages are handled in
        the order they arrived and never two at once."""
        while True:
            work = await self._work.get()
            try:
                if isinstance(work, _MessageWork):
                    await self.inbox.accept(work.message)
                elif isinstance(work, _SyncWork):
                    await self._run_sync(work)
                else:
                    await self._accept_epoch(work.frame)
            except (ClientError, CryptoError) as exc:
                log.warning("could not handle incoming data: %s", getattr(exc, "code", exc))
            except Exception:
                log.exception("unexpected failure while handling incoming data")
            if self._work.empty():
                # Everything at hand is in: what the messages' own order says now.
                self.inbox.report_order()

    async def _run_sync(self, work: _SyncWork) -> None:
        if work.conversations is not None:
            for conversation in work.conversations:
                self._gap_syncs.discard(conversation)
        try:
            await self._sync(work.conversations)
        except (ConnectionLostError, ReplyTimeoutError) as exc:
            # The next connection syncs again.
            if work.done is not None and not work.done.done():
                work.done.set_exception(exc)
            return
        except ClientError as exc:
            # What was synced is held; the rest comes with the next sync.
            log.warning("a sync stopped early: %s", exc.code)
        if work.done is not None and not work.done.done():
            work.done.set_result(None)
        if work.conversations is None and work.generation == self.connections:
            self._last_full_sync = time.monotonic()
            # Every conversation held was checked against this generation's numbering.
            self._checked_generation = self._server_generation
            self._restore_checked.clear()
            self._synced.set()

    async def _sync(self, conversations: tuple[uuid.UUID, ...] | None) -> None:
        """Sync pages until nothing more follows. Runs only in the inbox task, which alone
        feeds the inbox, so that messages are delivered in order."""
        if (
            conversations is None
            and self._checked_generation is not None
            and self._checked_generation != self._server_generation
        ):
            # A new database generation: the restore may have taken epochs back even where
            # no message held was lost. The listing may say so, once (docs/protocol.md,
            # "Restores", 5): nothing new is then written in the older epoch.
            self._rollback_allowed.update(self._conversations)
            await self.conversations()
        targets = list(self.inbox.positions() if conversations is None else conversations)
        while targets:
            chunk, targets = targets[:MAX_SYNC], targets[MAX_SYNC:]
            frame = SyncFrame(after={c: self.inbox.position(c) for c in chunk})
            try:
                reply = _expect(
                    await self._rt().call(frame, self.request_timeout), SyncReply, frame.type
                )
            except NotFoundError:
                # A conversation is no longer ours: relist, stop following it, sync the rest.
                await self.conversations()
                remaining = [c for c in chunk if c in self._conversations]
                if len(remaining) == len(chunk):
                    raise
                targets = remaining + targets
                continue
            self._syncs += 1
            for page in reply.conversations:
                if page.conversation not in chunk:
                    raise ProtocolError("A sync page is of a conversation not asked for")
                if await self._restored(page, frame.after[page.conversation]):
                    targets.append(page.conversation)  # again, from the restored end
                    continue
                for item in page.messages:
                    data = parse_message(item)
                    if data.conversation != page.conversation:
                        raise ProtocolError("A sync page holds another conversation's message")
                    await self.inbox.accept(data)
                if page.has_more:
                    targets.append(page.conversation)

    async def _restored(self, page: SyncPage, asked_after: int) -> bool:
        """Whether the page shows that the server lost messages this client holds (its
        database was restored from a backup); if so, says so, follows the conversation
        again from where it was restored to, and uploads this client's own lost messages
        again. The caller then syncs the conversation again, from there.

        A server that lists fewer messages than held was restored, whatever it announces.
        One that announces a new database generation says where each conversation was
        restored to (``restored_at``): what this client held after that, numbered under
        the earlier generation, is lost there, even if newer messages took its numbers."""
        conversation = page.conversation
        held = asked_after
        restored_at: int | None = None
        generation: str | None = None
        changed = (
            self._checked_generation is not None
            and self._checked_generation != self._server_generation
            and conversation not in self._restore_checked
        )
        if changed:
            self._restore_checked.add(conversation)
            if page.restored_at is not None and held > page.restored_at:
                restored_at, generation = page.restored_at, self._server_generation
        if restored_at is None and held > page.last_seq:
            restored_at = page.last_seq
            generation = self._server_generation if changed else None
        if restored_at is None:
            return False
        own = self._own_messages.get(conversation, OrderedDict())
        lost = [(seq, message) for seq, message in own.items() if seq > restored_at]
        for seq, _ in lost:
            del own[seq]
        lost_ids = {message.client_message_id for _, message in lost}
        # This client's own sends in the lost range that it kept no copy of.
        unkept = sum(
            1
            for status in self._sent.of(conversation)
            if status.seq is not None
            and status.seq > restored_at
            and status.client_message_id not in lost_ids
        )
        log.warning(
            "the server was restored: conversation messages after %d are gone from it "
            "(held up to %d); uploading %d of this client's own again",
            restored_at,
            held,
            len(lost),
        )
        self.inbox.rewind(conversation, restored_at)
        newest = self._own_stored.get(conversation)
        if newest is not None and newest[0] > restored_at:
            del self._own_stored[conversation]
        # Its epochs may have gone back too: the listing may now name an older one.
        self._rollback_allowed.add(conversation)
        await self.conversations()
        state = await self._known(conversation)
        members = self._members_now(state)
        resent = []
        for _, message in lost:
            if self.outbox.get(conversation, message.client_message_id) is not None:
                continue  # still waiting for its ack: it goes again anyway
            if message.members != members:
                # Written to other keys than the members hold now: never sealed to the new
                # ones (a server could claim a restore to have history sealed to a key it
                # put in a member's place). It stays lost from the server; others show it.
                unkept += 1
                continue
            self._reupload_members[message.client_message_id] = message.members
            epoch, ciphertext = message.epoch, message.ciphertext
            if epoch > state.current_epoch:
                # Its epoch is gone from the server (its number will name a new key): the
                # same text, id and place in the order, sealed in an epoch written now. (In
                # an epoch the server still has, the same bytes go: nothing new is written.)
                try:
                    epoch, ciphertext = await self._sealed_again(conversation, message)
                except (ClientError, CryptoError) as exc:
                    log.warning("a lost message could not be sealed again: %s", exc)
                    unkept += 1
                    continue
            entry = self.outbox.add(
                conversation,
                message.client_message_id,
                epoch,
                ciphertext,
                message.text,
                attachments=message.attachments,
            )
            entry.acked.add_done_callback(functools.partial(self._note_own_acked, entry))
            self._start_delivery(entry)
            resent.append(message.client_message_id)
        for entry in self.outbox.pending():
            # Waiting since before the restore, sealed in an epoch the server no longer has.
            if entry.conversation == conversation and entry.epoch > state.current_epoch:
                with contextlib.suppress(ClientError, CryptoError):
                    entry.reseal(*await self._sealed_again(conversation, entry))
        self.events.put_nowait(
            ServerRestored(
                conversation=conversation,
                restored_at=restored_at,
                held_up_to=held,
                resent=tuple(resent),
                not_resent=unkept,
                generation=generation,
            )
        )
        return True

    @staticmethod
    def _members_now(state: _Conversation) -> frozenset[tuple[int, bytes]]:
        return frozenset((m.id, m.identity.fingerprint()) for m in state.members.values())

    async def _sealed_again(
        self, conversation: uuid.UUID, message: _OwnMessage | OutgoingMessage
    ) -> tuple[int, bytes]:
        """A message's text sealed again, with its id and its place in the sender's order,
        in an epoch this client may write in now: after a restore, a new one first (its
        number may be a lost epoch's, its key is new)."""
        if message.text is None:
            raise KeysError("The text of this message is unknown here, so it cannot be re-sealed")
        state = await self._known(conversation)
        epoch = state.current_epoch
        for _ in range(_MAX_RESEALS):
            if not self._writes_refused(conversation, epoch):
                break
            try:
                epoch = await self.rekey(conversation)
            except StaleEpochError:
                # Another member began one first: read it, and write in it if it is new.
                await self.conversations()
                epoch = (await self._known(conversation)).current_epoch
        else:
            raise StaleEpochError("The conversation's epoch kept changing under this message")
        key = await self._key_for(conversation, epoch)
        self._refuse_if_held(conversation)
        order = crypto.parse_message(message.ciphertext).order
        ciphertext = crypto.seal_message(
            _content(message.text, message.attachments),
            key,
            conversation,
            epoch,
            self.identity,
            message.client_message_id,
            order,
        )
        return epoch, ciphertext

    def _keep_own(self, data: MessageData, content: MessageContent) -> None:
        """Keeps one of this client's own stored messages (the newest ``OWN_MESSAGES_KEPT``
        of each conversation) for an upload again after a restore."""
        state = self._conversations.get(data.conversation)
        if state is None:
            return
        own = self._own_messages.setdefault(data.conversation, OrderedDict())
        own[data.seq] = _OwnMessage(
            data.client_message_id,
            data.epoch,
            data.ciphertext,
            content.text,
            self._members_now(state),
            content.attachments,
        )
        own.move_to_end(data.seq)
        while len(own) > OWN_MESSAGES_KEPT:
            own.popitem(last=False)

    async def _accept_epoch(self, frame: EpochEvent) -> None:
        conversation, epoch, wrapper_id = frame.conversation, frame.epoch, frame.wrapper
        envelope = decoded(frame.envelope, "envelope")
        state = await self._known(conversation)
        wrapper = state.members.get(wrapper_id)
        if wrapper is None:
            # Listing again replaces the conversation's state: read the new one.
            await self.conversations()
            state = await self._known(conversation)
            wrapper = state.members.get(wrapper_id)
        if wrapper is None:
            raise KeysError("An epoch was started by someone who is not a member")
        # Signed by the wrapper's current keys; this user's own, by the keys held here.
        signers = self._signers_of(wrapper)[:2] if self._is_me(wrapper) else (wrapper.identity,)
        try:
            key = _unwrap_from_any(envelope, self.identity, signers, conversation, epoch)
        except crypto.DowngradeError:
            self._refused_downgrade(conversation, epoch, wrapper_id)
            # Current, but keyless: the next message starts a new epoch.
            state.current_epoch = max(state.current_epoch, epoch)
            return
        self._keyring.add(conversation, epoch, key)
        self._note_epoch_time(conversation, epoch, envelope)
        state.current_epoch = max(state.current_epoch, epoch)
        self.events.put_nowait(EpochStarted(conversation, epoch, wrapper_id))

    async def _open_message(
        self, data: MessageData, *, report: bool = True
    ) -> ReceivedMessage | None:
        """Verifies and decrypts one stored message; ``None`` (and an event) if it fails."""
        try:
            state = await self._known(data.conversation)
            sender = state.members.get(data.sender)
            if sender is None:
                await self.conversations()
                sender = (await self._known(data.conversation)).members.get(data.sender)
            if sender is None:
                raise KeysError("The sender is not a member of the conversation")
            key = await self._key_for(data.conversation, data.epoch)
            content = _content_from_any(data, key, (sender.identity, *sender.earlier))
        except (ClientError, CryptoError) as exc:
            reason = exc.code if isinstance(exc, ClientError) else type(exc).__name__
            if report:
                self._rejected += 1
                self.events.put_nowait(
                    RejectedMessage(data.conversation, data.seq, data.sender, reason)
                )
            log.warning("a stored message did not verify or open: %s", reason)
            return None
        if report:
            self._received += 1
        if self.account is not None and data.sender == self.account.id:
            self._keep_own(data, content)
        order = crypto.parse_message(data.ciphertext).order
        return ReceivedMessage(
            conversation=data.conversation,
            seq=data.seq,
            sender_id=data.sender,
            text=content.text,
            sent_at=data.sent_at,
            client_message_id=data.client_message_id,
            written_at=_from_milliseconds(None if order is None else order.sent_at),
            attachments=content.attachments,
        )

    async def _verified_order(self, data: MessageData) -> MessageOrder | None:
        """The order of a message that did not open, if its signature verifies under its
        sender's identity and it names its conversation, epoch and id (its key may be
        missing); otherwise None."""
        try:
            sender = (await self._known(data.conversation)).members.get(data.sender)
        except ClientError:
            return None
        for signer in () if sender is None else (sender.identity, *sender.earlier):
            try:
                info = crypto.verify_message(data.ciphertext, signer)
            except CryptoError:
                continue
            bound = (
                info.conversation_id == data.conversation.bytes
                and info.epoch == data.epoch
                and info.client_message_id == data.client_message_id.bytes
            )
            return info.order if bound else None
        return None

    def _warn_order(self, conversation: uuid.UUID, notice: OrderNotice) -> None:
        log.warning("the messages' own order shows a %s message", notice.kind)
        self.events.put_nowait(
            OrderWarning(
                conversation=conversation,
                kind=notice.kind,
                seq=notice.seq,
                sender_id=notice.sender,
                first=notice.first,
                last=notice.last,
                written_after=_from_milliseconds(notice.after),
                written_before=_from_milliseconds(notice.before),
            )
        )

    async def _heartbeat(self) -> None:
        """Pings every ``heartbeat_seconds`` (a dead socket is dropped and reopened) and
        syncs every ``sync_seconds``, since pushes are not guaranteed."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            realtime = self._realtime
            if realtime is None or not realtime.connected.is_set():
                continue
            try:
                await realtime.call(PingFrame(), min(self.request_timeout, 10.0))
            except ReplyTimeoutError:
                realtime.abort()
                continue
            except ClientError:
                continue
            if time.monotonic() - self._last_full_sync >= self.sync_seconds:
                self._work.put_nowait(_SyncWork(None, generation=self.connections))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _export_text(message: ReceivedMessage) -> str:
    """What an export holds of a message: its text, and a line for each file it presents,
    as the web client writes them (the files themselves are not in an export)."""
    lines = [message.text] if message.text or not message.attachments else []
    lines.extend(
        f"Attachment: {item.name} ({attachment_files.size_text(item.size)})"
        for item in message.attachments
    )
    return "\n".join(lines)


def _milliseconds(moment: datetime) -> int:
    """An aware datetime as whole milliseconds since 1970 (rounded down, as a browser's
    ``Date`` reads the server's times)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _now_ms() -> int:
    """This computer's clock, in milliseconds since 1970."""
    return time.time_ns() // 1_000_000


def _from_milliseconds(milliseconds: int | None) -> datetime | None:
    """A sender's clock time (milliseconds since 1970, UTC) as an aware datetime; None for
    none, or one past what a datetime holds (year 9999), which only a wrong clock writes."""
    if milliseconds is None:
        return None
    try:
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _invitation_parts(fragment: str) -> tuple[str, bytes]:
    """The token and the therapist's fingerprint of an invitation link's fragment."""
    try:
        return crypto.parse_invitation_fragment(fragment)
    except CryptoError as exc:
        raise InvalidRequestError(
            f"This invitation link is not whole ({exc}). Copy the whole link, or ask your"
            " therapist for a new one",
            code="invitation_link_incomplete",
        ) from None


def _content(text: str | None, attachments: tuple[AttachmentReference, ...]) -> bytes:
    """A message's plaintext: its text as UTF-8, or the content that presents files with it
    (crypto/SPEC.md, "Message content")."""
    if text is None:
        raise KeysError("The text of this message is unknown here, so it cannot be re-sealed")
    return crypto.encode_content(MessageContent(text, attachments))


def _open_from_any(
    data: MessageData, key: ConversationKey, identities: tuple[PublicIdentity, ...]
) -> str:
    """The message's text (:func:`_content_from_any`)."""
    return _content_from_any(data, key, identities).text


def _content_from_any(
    data: MessageData, key: ConversationKey, identities: tuple[PublicIdentity, ...]
) -> MessageContent:
    """The message's content (its text, and the files it presents), verified under the
    sender's identity or, for a message written before a confirmed recovery, one of their
    verified earlier identities."""
    return crypto.decode_content(_plaintext_from_any(data, key, identities))


def _plaintext_from_any(
    data: MessageData, key: ConversationKey, identities: tuple[PublicIdentity, ...]
) -> bytes:
    for number, signer in enumerate(identities):
        try:
            return crypto.open_message(
                data.ciphertext, key, signer, data.conversation, data.epoch, data.client_message_id
            )
        except crypto.SignatureError:
            if number == len(identities) - 1:
                raise
    raise KeysError("The sender has no identity to verify with")


def _expect(reply: ServerFrame, reply_type: type[R], request: str) -> R:
    """``reply`` if it is the frame that answers ``request``; a reply of another type
    (the server mixed up its refs) is off the protocol."""
    if not isinstance(reply, reply_type):
        raise ProtocolError(f"A {request} request was answered with {reply.type}")
    return reply


def refuse_unless_two_people(data: ConversationData, my_id: int | None) -> None:
    """A conversation is one client and one therapist, one of them this user.

    Any other member list can only come from a server adding a reader, whose envelopes and
    messages would then be trusted; such a conversation is refused whole.
    """
    ids = {member.id for member in data.members}
    roles = sorted(member.role for member in data.members)
    if (
        len(data.members) != 2
        or len(ids) != 2
        or my_id not in ids
        or roles != ["client", "therapist"]
    ):
        raise ConversationRefusedError(
            f"Conversation {data.id} does not consist of you and one other person."
        )


def _unwrap_from_any(
    envelope: bytes,
    identity: IdentityKeyPair,
    signers: Sequence[PublicIdentity],
    conversation: uuid.UUID,
    epoch: int,
) -> ConversationKey:
    """The key of an envelope signed by any of ``signers``. A downgrade (the signature
    verified, the wrapping did not use X-Wing) is raised at once; otherwise the first
    signer's failure when none verifies."""
    *others, last = signers
    first: CryptoError | None = None
    for signer in others:
        try:
            return crypto.unwrap_conversation_key(envelope, identity, signer, conversation, epoch)
        except crypto.DowngradeError:
            raise
        except CryptoError as exc:
            first = first or exc
    try:
        return crypto.unwrap_conversation_key(envelope, identity, last, conversation, epoch)
    except crypto.DowngradeError:
        raise
    except CryptoError as exc:
        raise (first or exc) from None
