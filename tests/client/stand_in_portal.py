"""The stand-in server grown to a whole portal: the HTTP API and the websocket on one port,
so that a ``ConfideClient`` signs in, lists, sends and receives exactly as it would against
the real server, in one process, with no database (``stand_in.py`` is its socket-only
sibling, for the tests of ``Realtime``).

It reads every request and frame with the protocol's own models (``protocol.http``,
``protocol.to_server``) and answers with them, so what passes here is on the protocol. It
is not the server: it keeps everything in memory, it makes the personas' keys itself (a
real server never sees a private key), and it checks only what the client's tests need:

* sign-in with the authentication secret, the CSRF token on every ``POST``, the session
  cookie and the ``Origin`` on the websocket;
* ``send``: membership (``not_found``), the messaging agreement (``agreement_required``
  for a client who has not accepted :attr:`StandInPortal.agreement_version`), the epoch
  (``stale_epoch``), the same id with other bytes (``client_message_id_reused``), and a
  resend of the same bytes answered ``"duplicate": true``;
* what a test asks for: :attr:`StandInPortal.refusals` (error codes to answer the next
  sends with), :attr:`StandInPortal.silent` (take sends and never answer or store them),
  :attr:`StandInPortal.lose_acks` (store sends but never acknowledge them),
  :meth:`StandInPortal.drop_sockets`, :meth:`StandInPortal.rotate`.

It runs on uvicorn (the project's own ASGI server) in the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from pydantic import BaseModel, ValidationError

import crypto
from crypto import ConversationKey, IdentityKeyPair, SignUpMaterial, b64decode, b64encode
from protocol.common import MalformedError, as_json, encode
from protocol.errors import ERRORS, ErrorCode
from protocol.http import (
    AgreementAnswer,
    AgreementBody,
    AgreementRequest,
    AgreementSection,
    AgreementText,
    ConversationAnswer,
    ConversationBody,
    ConversationsAnswer,
    CrisisLineBody,
    CsrfAnswer,
    CurrentAgreementAnswer,
    EnvelopeBody,
    ErrorBody,
    ErrorDetail,
    InvitationAnswer,
    InvitationItem,
    InvitationRequest,
    InvitationsAnswer,
    KdfBody,
    MeBody,
    MemberBody,
    OkAnswer,
    ParamsRequest,
    PinsAnswer,
    PinsRequest,
    PracticeBody,
    SignInRequest,
    UserAnswer,
)
from protocol.limits import Limits
from protocol.to_client import (
    AckFrame,
    EpochEvent,
    ErrorFrame,
    HistoryReply,
    MessageFrame,
    PongFrame,
    ReadEvent,
    ReadOkFrame,
    ReadyFrame,
    RekeyOkFrame,
    SyncPage,
    SyncReply,
    TypingEvent,
)
from protocol.to_server import (
    ClientFrame,
    HistoryFrame,
    PingFrame,
    ReadFrame,
    RekeyFrame,
    SendFrame,
    SyncFrame,
    TypingFrame,
    parse_client_frame,
)

# The cheapest parameters a client accepts from a server (its floor, the sign-up default):
# each sign-in derives its keys with them.
QUICK_KDF = crypto.DEFAULT_KDF_PARAMS
LIMITS = Limits(
    max_frame_bytes=262144, message_rate=200, message_burst=200, history_page=100, max_sockets=10
)
PAGE = 100
EPOCH_STARTED = datetime(2026, 1, 1, tzinfo=UTC)


class Refused(Exception):
    """An answer with an error code of the protocol."""

    def __init__(self, code: ErrorCode, message: str, **data: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


@dataclass
class Person:
    id: int
    email: str
    display_name: str
    role: str
    material: SignUpMaterial = field(repr=False)
    agreement: AgreementBody | None = None

    @property
    def identity(self) -> IdentityKeyPair:
        return self.material.identity

    def member(self) -> MemberBody:
        return MemberBody(
            id=self.id,
            display_name=self.display_name,
            role=self.role,  # type: ignore[arg-type]
            public_identity=b64encode(self.material.public_identity.to_bytes()),
        )


@dataclass
class Conversation:
    id: uuid.UUID
    members: list[Person]
    epoch: int = 0
    # (epoch, member id) -> (wrapper id, envelope)
    envelopes: dict[tuple[int, int], tuple[int, bytes]] = field(default_factory=dict)
    messages: list[MessageFrame] = field(default_factory=list)
    read_seqs: dict[int, int] = field(default_factory=dict)


@dataclass
class Invite:
    id: int
    therapist: int
    client_name: str
    conversation: uuid.UUID
    created_at: datetime
    expires_at: datetime
    state: str = "pending"


@dataclass(eq=False)
class Socket:
    user: Person
    session: str
    outgoing: asyncio.Queue[str | int] = field(default_factory=asyncio.Queue)


class StandInPortal:
    """One practice's portal in memory. ``url`` is set once :func:`running` started it."""

    def __init__(self) -> None:
        self.url = ""
        self.people: dict[int, Person] = {}
        # Each person's pin record: its counter and base64url bytes.
        self.pin_records: dict[int, tuple[int, str | None]] = {}
        self.conversations: dict[uuid.UUID, Conversation] = {}
        self.invitations: dict[int, Invite] = {}
        self.sessions: dict[str, int] = {}
        self.sockets: set[Socket] = set()
        self.agreement_version = "2026-1"
        self.sends: list[SendFrame] = []
        self.refusals: list[ErrorCode] = []
        #: Every HTTP request's method and path, in order.
        self.requests: list[tuple[str, str]] = []
        self.silent = False
        self.lose_acks = False
        # The database generation its sockets announce (a new one after a restore), and
        # where each conversation was restored to when it began.
        self.generation = uuid.uuid4().hex
        self.restored_at: dict[uuid.UUID, int] = {}
        # People whose sockets are closed at once with 1012, as by a server that is down.
        self.unreachable_for: set[int] = set()
        self._ids = iter(range(1, 1_000_000))

    # --- set-up ----------------------------------------------------------------------------

    def add_person(
        self,
        role: str,
        name: str,
        password: str,
        *,
        agreed: bool = True,
        kdf: crypto.KdfParams = QUICK_KDF,
    ) -> Person:
        """A person of the practice, their keys derived with ``kdf``; a client has accepted
        the current agreement unless ``agreed`` is False."""
        person_id = next(self._ids)
        email = f"{name.lower().replace(' ', '.')}@example.org"
        material = crypto.make_sign_up_material(password, kdf)
        person = Person(person_id, email, name, role, material)
        if role == "client" and agreed:
            person.agreement = AgreementBody(
                version=self.agreement_version, accepted_at=datetime.now(UTC)
            )
        self.people[person_id] = person
        return person

    def add_conversation(self, client: Person, therapist: Person) -> uuid.UUID:
        """A conversation of the two, its epoch-0 key wrapped by the client to both."""
        conversation = Conversation(uuid.uuid4(), [client, therapist])
        self._wrap(conversation, 0, ConversationKey.generate(), client)
        self.conversations[conversation.id] = conversation
        return conversation.id

    def rotate(self, conversation_id: uuid.UUID, by: Person) -> int:
        """Starts the next epoch as if ``by`` had sent ``rekey`` (no event is pushed)."""
        conversation = self.conversations[conversation_id]
        conversation.epoch += 1
        self._wrap(conversation, conversation.epoch, ConversationKey.generate(), by)
        return conversation.epoch

    def _wrap(
        self, conversation: Conversation, epoch: int, key: ConversationKey, by: Person
    ) -> None:
        for member in conversation.members:
            envelope = crypto.wrap_conversation_key(
                key,
                conversation.id,
                epoch,
                member.material.public_identity,
                by.identity,
                int(time.time() * 1000),
            )
            conversation.envelopes[(epoch, member.id)] = (by.id, envelope)

    async def drop_sockets(self, user: Person | None = None, code: int = 1012) -> None:
        """Closes the sockets (of ``user``, or all) as a restarting server would."""
        for socket in list(self.sockets):
            if user is None or socket.user is user:
                socket.outgoing.put_nowait(code)

    def restore(
        self, conversation_id: uuid.UUID, to_seq: int, *, epoch: int, announce: bool = True
    ) -> None:
        """Goes back in time as a restore from a backup does: the conversation keeps its
        first ``to_seq`` messages and its epochs up to ``epoch``; with ``announce``, a new
        database generation begins (as ``confide restore`` makes one)."""
        conversation = self.conversations[conversation_id]
        del conversation.messages[to_seq:]
        conversation.epoch = epoch
        for key in [k for k in conversation.envelopes if k[0] > epoch]:
            del conversation.envelopes[key]
        if announce:
            self.generation = uuid.uuid4().hex
            self.restored_at = {cid: len(c.messages) for cid, c in self.conversations.items()}

    def stored(self, conversation_id: uuid.UUID) -> list[MessageFrame]:
        return list(self.conversations[conversation_id].messages)

    # --- ASGI ----------------------------------------------------------------------------------

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = _cookies(headers.get("cookie", ""))
        if scope["type"] == "websocket":
            await self._websocket(headers, cookies, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        set_cookies: list[str] = []
        try:
            answer = self._http(scope["method"], scope["path"], headers, cookies, body, set_cookies)
            status = 200
        except Refused as exc:
            answer = ErrorBody(error=ErrorDetail(code=exc.code, message=exc.message, **exc.data))
            status = ERRORS[exc.code].status
        response_headers = [(b"content-type", b"application/json")]
        response_headers += [(b"set-cookie", c.encode("latin-1")) for c in set_cookies]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        # An HTTP body keeps its nulls (``as_json``); a frame never carries one (``encode``).
        payload = json.dumps(as_json(answer), separators=(",", ":")).encode("utf-8")
        await send({"type": "http.response.body", "body": payload})

    # --- HTTP ------------------------------------------------------------------------------

    def _http(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        cookies: dict[str, str],
        body: bytes,
        set_cookies: list[str],
    ) -> BaseModel:
        self.requests.append((method, path))
        if method in ("POST", "PUT") and (
            "csrftoken" not in cookies or headers.get("x-csrftoken") != cookies["csrftoken"]
        ):
            raise Refused(ErrorCode.CSRF_FAILED, "CSRF token missing or wrong.")
        if (method, path) == ("GET", "/api/csrf"):
            token = secrets.token_urlsafe(24)
            set_cookies.append(f"csrftoken={token}; Path=/; SameSite=Strict")
            return CsrfAnswer(csrf_token=token)
        if (method, path) == ("POST", "/api/auth/params"):
            person = self._by_email(_read(ParamsRequest, body).email)
            if person is None:
                raise Refused(ErrorCode.BAD_REQUEST, "The stand-in knows only its personas.")
            return self._kdf(person)
        if (method, path) == ("POST", "/api/auth/signin"):
            request = _read(SignInRequest, body)
            person = self._by_email(request.email)
            if person is None or request.auth_secret != b64encode(person.material.auth_secret):
                raise Refused(ErrorCode.UNAUTHENTICATED, "Wrong email or password.")
            session = secrets.token_urlsafe(24)
            self.sessions[session] = person.id
            set_cookies.append(f"sessionid={session}; Path=/; HttpOnly; SameSite=Strict")
            return UserAnswer(user=self._me(person))
        user = self.people.get(self.sessions.get(cookies.get("sessionid", ""), 0))
        if user is None:
            raise Refused(ErrorCode.UNAUTHENTICATED, "Sign in first.")
        if (method, path) == ("POST", "/api/auth/signout"):
            self.sessions.pop(cookies["sessionid"], None)
            for socket in list(self.sockets):
                if socket.session == cookies["sessionid"]:
                    socket.outgoing.put_nowait(4001)
            return OkAnswer(ok=True)
        if (method, path) == ("GET", "/api/me"):
            return UserAnswer(user=self._me(user))
        if path == "/api/me/pins":
            return self._pins(method, user, body)
        if (method, path) == ("GET", "/api/conversations"):
            mine = [c for c in self.conversations.values() if user in c.members]
            return ConversationsAnswer(conversations=[self._listing(c, user) for c in mine])
        found = re.fullmatch(r"/api/conversations/([0-9a-f-]{36})", path)
        if method == "GET" and found:
            conversation = self.conversations.get(uuid.UUID(found.group(1)))
            if conversation is None or user not in conversation.members:
                raise Refused(ErrorCode.NOT_FOUND, "No such conversation.")
            return ConversationAnswer(conversation=self._listing(conversation, user))
        if path == "/api/agreement":
            return self._agreement(method, user, body)
        if path.startswith("/api/invitations"):
            return self._invitations(method, path, user, body)
        raise Refused(ErrorCode.NOT_FOUND, f"The stand-in has no {method} {path}.")

    def _pins(self, method: str, user: Person, body: bytes) -> BaseModel:
        """The person's pin record, kept as the server keeps it (``accounts.pins``)."""
        counter, record = self.pin_records.get(user.id, (0, None))
        if method == "PUT":
            request = _read(PinsRequest, body)
            if request.previous != counter:
                raise Refused(ErrorCode.PINS_CHANGED, "Another session wrote the pins.")
            counter, record = request.previous + 1, request.record
            self.pin_records[user.id] = (counter, record)
        return PinsAnswer(record=record, counter=counter)

    def _agreement(self, method: str, user: Person, body: bytes) -> BaseModel:
        if method == "GET":
            text = AgreementText(
                version=self.agreement_version,
                published_at=EPOCH_STARTED,
                sections=[
                    AgreementSection(
                        heading="Not for emergencies",
                        paragraphs=["Messages are not monitored around the clock."],
                    ),
                    AgreementSection(
                        heading="When to expect a reply",
                        paragraphs=["Within two business days."],
                    ),
                ],
            )
            accepted = user.agreement
            if accepted is not None and accepted.version != self.agreement_version:
                accepted = None
            return CurrentAgreementAnswer(agreement=text, accepted=accepted)
        if user.role != "client":
            raise Refused(ErrorCode.FORBIDDEN, "Only clients accept the agreement.")
        version = _read(AgreementRequest, body).version
        if version != self.agreement_version:
            raise Refused(ErrorCode.BAD_REQUEST, "Not the current version.")
        if user.agreement is None or user.agreement.version != version:
            user.agreement = AgreementBody(version=version, accepted_at=datetime.now(UTC))
        return AgreementAnswer(agreement=user.agreement)

    def _invitations(self, method: str, path: str, user: Person, body: bytes) -> BaseModel:
        if user.role != "therapist":
            raise Refused(ErrorCode.FORBIDDEN, "Only therapists invite.")
        if (method, path) == ("POST", "/api/invitations"):
            name = _read(InvitationRequest, body).client_name
            now = datetime.now(UTC)
            invite = Invite(
                next(self._ids), user.id, name, uuid.uuid4(), now, now + timedelta(hours=72)
            )
            self.invitations[invite.id] = invite
            token = secrets.token_urlsafe(32)
            return InvitationAnswer(
                id=invite.id,
                token=token,
                path=f"/invite#{token}",
                expires_at=invite.expires_at,
                conversation=invite.conversation,
            )
        if (method, path) == ("GET", "/api/invitations"):
            mine = [i for i in self.invitations.values() if i.therapist == user.id]
            mine.sort(key=lambda invite: invite.created_at, reverse=True)
            return InvitationsAnswer(invitations=[_item(invite) for invite in mine])
        found = re.fullmatch(r"/api/invitations/([0-9]+)/revoke", path)
        if method == "POST" and found:
            revoked = self.invitations.get(int(found.group(1)))
            if revoked is None or revoked.therapist != user.id:
                raise Refused(ErrorCode.NOT_FOUND, "No such invitation.")
            if revoked.state == "pending":
                revoked.state = "revoked"
            return _item(revoked)
        raise Refused(ErrorCode.METHOD_NOT_ALLOWED, "Not here.")

    def _by_email(self, email: str) -> Person | None:
        return next((p for p in self.people.values() if p.email == email), None)

    def _kdf(self, person: Person) -> KdfBody:
        material = person.material
        return KdfBody(
            salt=b64encode(material.salt),
            opslimit=material.params.opslimit,
            memlimit=material.params.memlimit,
        )

    def _me(self, person: Person) -> MeBody:
        return MeBody(
            **person.member().model_dump(),
            email=person.email,
            practice=PracticeBody(
                id=1,
                name="Lakeside Counselling",
                time_zone="America/Los_Angeles",
                crisis_lines=[CrisisLineBody(label="Emergency", number="911")],
                reply_promise="Usually answered within two business days.",
            ),
            kdf=self._kdf(person),
            key_bundle=b64encode(person.material.key_bundle),
            agreement=person.agreement,
        )

    def _listing(self, conversation: Conversation, user: Person) -> ConversationBody:
        messages = conversation.messages
        return ConversationBody(
            id=conversation.id,
            status="active",
            current_epoch=conversation.epoch,
            epoch_started_at=EPOCH_STARTED,
            epoch_messages=sum(1 for m in messages if m.epoch == conversation.epoch),
            last_seq=len(messages),
            last_message_at=messages[-1].sent_at if messages else None,
            last_read_seq=conversation.read_seqs.get(user.id, 0),
            unread=len(messages) - conversation.read_seqs.get(user.id, 0),
            members=[member.member() for member in conversation.members],
            read_seqs={str(k): v for k, v in conversation.read_seqs.items()},
            envelopes=[
                EnvelopeBody(epoch=epoch, wrapper=wrapper, envelope=b64encode(envelope))
                for (epoch, member), (wrapper, envelope) in sorted(conversation.envelopes.items())
                if member == user.id
            ],
        )

    # --- the websocket ---------------------------------------------------------------------

    async def _websocket(
        self,
        headers: dict[str, str],
        cookies: dict[str, str],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        await receive()  # websocket.connect
        if headers.get("origin") != self.url:
            await send({"type": "websocket.close", "code": 1008})  # refused: HTTP 403
            return
        await send({"type": "websocket.accept"})
        session = cookies.get("sessionid", "")
        user = self.people.get(self.sessions.get(session, 0))
        if user is None:
            await send({"type": "websocket.close", "code": 4401})
            return
        if user.id in self.unreachable_for:
            await send({"type": "websocket.close", "code": 1012})
            return
        socket = Socket(user, session)
        self.sockets.add(socket)
        socket.outgoing.put_nowait(
            encode(ReadyFrame(user=user.id, limits=LIMITS, generation=self.generation))
        )
        writer = asyncio.create_task(self._write(socket, send))
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect" or writer.done():
                    break
                for reply in self._answer(socket, message.get("text") or ""):
                    socket.outgoing.put_nowait(reply)
        finally:
            self.sockets.discard(socket)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    async def _write(
        self, socket: Socket, send: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> None:
        while True:
            item = await socket.outgoing.get()
            if isinstance(item, int):
                self.sockets.discard(socket)
                await send({"type": "websocket.close", "code": item})
                return
            await send({"type": "websocket.send", "text": item})

    def _push(self, conversation: Conversation, text: str, *, but: Person | None = None) -> None:
        for socket in list(self.sockets):
            if socket.user in conversation.members and socket.user is not but:
                socket.outgoing.put_nowait(text)

    def _answer(self, socket: Socket, text: str) -> list[str]:
        try:
            frame = parse_client_frame(text)
        except MalformedError as exc:
            return [encode(ErrorFrame(code=ErrorCode.BAD_FRAME, message=str(exc)))]
        try:
            return self._reply(socket, frame)
        except Refused as exc:
            error = ErrorFrame(ref=frame.ref, code=exc.code, message=exc.message, **exc.data)
            return [encode(error)]

    def _member_of(self, socket: Socket, conversation_id: uuid.UUID) -> Conversation:
        conversation = self.conversations.get(conversation_id)
        if conversation is None or socket.user not in conversation.members:
            raise Refused(ErrorCode.NOT_FOUND, "No such conversation.")
        return conversation

    def _reply(self, socket: Socket, frame: ClientFrame) -> list[str]:
        if isinstance(frame, PingFrame):
            return [encode(PongFrame(ref=frame.ref))]
        if isinstance(frame, SendFrame):
            return self._send(socket, frame)
        if isinstance(frame, SyncFrame):
            pages = []
            for conversation_id, after in frame.after.items():
                conversation = self._member_of(socket, conversation_id)
                messages = conversation.messages[after : after + PAGE]
                pages.append(
                    SyncPage(
                        conversation=conversation_id,
                        messages=messages,
                        has_more=after + PAGE < len(conversation.messages),
                        last_seq=len(conversation.messages),
                        restored_at=self.restored_at.get(conversation_id),
                    )
                )
            return [encode(SyncReply(ref=frame.ref, conversations=pages))]
        if isinstance(frame, HistoryFrame):
            conversation = self._member_of(socket, frame.conversation)
            end = len(conversation.messages) if frame.before is None else frame.before - 1
            start = max(end - (frame.limit or PAGE), 0)
            reply = HistoryReply(
                ref=frame.ref,
                conversation=frame.conversation,
                messages=conversation.messages[start:end],
                has_more=start > 0,
                last_seq=len(conversation.messages),
            )
            return [encode(reply)]
        if isinstance(frame, ReadFrame):
            conversation = self._member_of(socket, frame.conversation)
            seq = min(frame.seq, len(conversation.messages))
            conversation.read_seqs[socket.user.id] = seq
            event = ReadEvent(conversation=conversation.id, user=socket.user.id, seq=seq)
            self._push(conversation, encode(event))
            return [encode(ReadOkFrame(ref=frame.ref, conversation=conversation.id, seq=seq))]
        if isinstance(frame, RekeyFrame):
            conversation = self._member_of(socket, frame.conversation)
            if frame.epoch != conversation.epoch + 1:
                raise Refused(
                    ErrorCode.STALE_EPOCH, "Not the next epoch.", current_epoch=conversation.epoch
                )
            conversation.epoch = frame.epoch
            for item in frame.envelopes:
                envelope = b64decode(item.envelope)
                conversation.envelopes[(frame.epoch, item.recipient)] = (socket.user.id, envelope)
            for other in list(self.sockets):
                if other.user in conversation.members and other.user is not socket.user:
                    other.outgoing.put_nowait(encode(self.epoch_event(conversation.id, other.user)))
            return [
                encode(RekeyOkFrame(ref=frame.ref, conversation=conversation.id, epoch=frame.epoch))
            ]
        if isinstance(frame, TypingFrame):
            conversation = self._member_of(socket, frame.conversation)
            typing = TypingEvent(conversation=conversation.id, user=socket.user.id)
            self._push(conversation, encode(typing), but=socket.user)
            return []
        raise Refused(ErrorCode.UNKNOWN_TYPE, "The stand-in does not take this frame.")

    def _send(self, socket: Socket, frame: SendFrame) -> list[str]:
        self.sends.append(frame)
        conversation = self._member_of(socket, frame.conversation)
        user = socket.user
        if user.role == "client" and (
            user.agreement is None or user.agreement.version != self.agreement_version
        ):
            raise Refused(ErrorCode.AGREEMENT_REQUIRED, "Accept the messaging agreement first.")
        if self.silent:
            return []
        if self.refusals:
            code = self.refusals.pop(0)
            data = {"retry_after_ms": 10} if code == ErrorCode.RATE_LIMITED else {}
            raise Refused(code, f"The stand-in refuses this send with {code}.", **data)
        for stored in conversation.messages:
            if stored.client_message_id == frame.client_message_id:
                if stored.ciphertext != frame.ciphertext or stored.sender != user.id:
                    raise Refused(ErrorCode.ID_REUSED, "Another message has this id.")
                return [encode(self._ack(frame, stored, duplicate=True))]
        if frame.epoch != conversation.epoch:
            raise Refused(
                ErrorCode.STALE_EPOCH, "Use the current epoch.", current_epoch=conversation.epoch
            )
        stored = MessageFrame(
            conversation=conversation.id,
            seq=len(conversation.messages) + 1,
            client_message_id=frame.client_message_id,
            epoch=frame.epoch,
            sender=user.id,
            ciphertext=frame.ciphertext,
            sent_at=datetime.now(UTC),
        )
        conversation.messages.append(stored)
        ack = encode(self._ack(frame, stored, duplicate=False))
        self._push(conversation, encode(stored))
        return [] if self.lose_acks else [ack]

    def _ack(self, frame: SendFrame, stored: MessageFrame, *, duplicate: bool) -> AckFrame:
        return AckFrame(
            ref=frame.ref,
            conversation=stored.conversation,
            client_message_id=stored.client_message_id,
            seq=stored.seq,
            sent_at=stored.sent_at,
            duplicate=duplicate,
        )

    def epoch_event(self, conversation_id: uuid.UUID, member: Person) -> EpochEvent:
        """The ``epoch`` event of the current epoch for ``member``."""
        conversation = self.conversations[conversation_id]
        wrapper, envelope = conversation.envelopes[(conversation.epoch, member.id)]
        return EpochEvent(
            conversation=conversation_id,
            epoch=conversation.epoch,
            wrapper=wrapper,
            envelope=b64encode(envelope),
        )


def _cookies(header: str) -> dict[str, str]:
    pairs = (part.strip().split("=", 1) for part in header.split(";") if "=" in part)
    return {name: value for name, value in pairs}


def _read(model: type[Any], body: bytes) -> Any:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        raise Refused(ErrorCode.BAD_REQUEST, f"Not a {model.__name__}.") from None


def _item(invite: Invite) -> InvitationItem:
    return InvitationItem(
        id=invite.id,
        client_name=invite.client_name,
        conversation=invite.conversation,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        state=invite.state,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def running(portal: StandInPortal) -> AsyncIterator[StandInPortal]:
    """Serves ``portal`` on 127.0.0.1 (a free port) until the block ends."""
    config = uvicorn.Config(
        portal,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        ws_ping_interval=None,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        portal.url = f"http://127.0.0.1:{port}"
        yield portal
    finally:
        await portal.drop_sockets(code=1001)
        server.should_exit = True
        await asyncio.wait_for(task, 10)
