"""The websocket consumer: parse, authorise, call a service, reply.

One socket per signed-in tab carries all of the user's conversations. Every frame is
checked against its schema (``protocol.to_server``) before anything else happens, every
service call checks membership in the database, so authorisation holds on every frame and
not only at connect, and every reply is built from ``protocol.to_client``. A client's
``send`` and ``rekey`` are taken only once they accepted their practice's current messaging
agreement (``services.agreements``), checked without a query per frame.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from uvicorn.protocols.utils import ClientDisconnected

import crypto
from accounts.factors import STAFF_ROLES, needs_enrolment
from accounts.sockets import ENROLMENT_REQUIRED
from audit.log import Origin, set_origin
from crypto import CryptoError, PublicIdentity
from messaging.limits import TokenBucket, claim_socket, release_socket
from messaging.metrics import ACK_SECONDS, MESSAGES_REFUSED, MESSAGES_STORED, SOCKETS_OPEN
from messaging.services import (
    agreements,
    epochs,
    events,
    generations,
    messages,
    receipts,
    sessions,
)
from protocol import encode
from protocol.common import loads
from protocol.errors import (
    ON_DAPHNE,
    ApiError,
    CloseCode,
    ErrorCode,
    FrameError,
    RateLimitedError,
)
from protocol.limits import Limits
from protocol.to_client import (
    AckFrame,
    ErrorFrame,
    HistoryReply,
    PongFrame,
    ReadOkFrame,
    ReadyFrame,
    RekeyOkFrame,
    SyncPage,
    SyncReply,
    ToClient,
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

log = logging.getLogger(__name__)


def origin_of_scope(scope: dict[str, Any]) -> Origin:
    """The socket's address (after the proxy middleware) and user agent, for the audit log."""
    client = scope.get("client") or ("", 0)
    agent = dict(scope.get("headers") or []).get(b"user-agent", b"")
    return Origin.of(client[0], agent.decode("latin-1"))


class MessagingConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """One signed-in tab's socket."""

    user_id: int
    # The user's public identity as stored; parsed and verified at the first send.
    identity_bytes: bytes
    _identity: PublicIdentity | None = None
    session_key: str | None
    # A client's acceptance of the messaging agreement; None for therapists and admins.
    agreement: agreements.AgreementGate | None = None
    joined: bool = False
    leased: bool = False
    gone: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sends: set[asyncio.Future[None]] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Runs for the socket's whole life. However it ends (a close, a crash of the
        application, a cancellation), the socket leaves its group and gives back its
        lease: a lease that outlived its socket would count against the user's limit."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.leave()

    async def connect(self) -> None:
        """Runs at the handshake: authenticate, apply the socket limit, join the user's group."""
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CloseCode.UNAUTHENTICATED)
            return
        # A therapist or admin without a second factor enrols one first (over HTTP): asked in
        # the handshake's one trip to the database (accounts.sockets), or here when the
        # socket came through other middleware.
        enrol = self.scope.get(ENROLMENT_REQUIRED)
        if enrol is None:
            enrol = user.role in STAFF_ROLES and await database_sync_to_async(needs_enrolment)(user)
        if enrol:
            await self.close(code=CloseCode.SECOND_FACTOR_ENROLMENT_REQUIRED)
            return
        self.user_id = user.pk
        self.identity_bytes = bytes(user.public_identity)
        set_origin(origin_of_scope(self.scope))
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        if not await claim_socket(
            self.user_id, self.channel_name, settings.CONFIDE_MAX_SOCKETS_PER_USER
        ):
            await self.close(code=CloseCode.TOO_MANY_SOCKETS)
            return
        # Given back however the socket ends from here on, joining its group included.
        self.leased = True
        self.bucket = TokenBucket(settings.CONFIDE_MESSAGE_RATE, settings.CONFIDE_MESSAGE_BURST)
        await self.channel_layer.group_add(events.user_group(self.user_id), self.channel_name)
        self.joined = True
        SOCKETS_OPEN.inc()
        sessions.watch().add(self.channel_name, self.user_id, self.session_key)
        # Read at the first send, once the socket is in its group: a new agreement published
        # from then on reaches it as an event, and one published before is in what is read.
        self.agreement = agreements.gate_for(user)
        limits = Limits(
            max_frame_bytes=settings.CONFIDE_MAX_FRAME_BYTES,
            message_rate=settings.CONFIDE_MESSAGE_RATE,
            message_burst=settings.CONFIDE_MESSAGE_BURST,
            history_page=settings.CONFIDE_HISTORY_PAGE,
            max_sockets=settings.CONFIDE_MAX_SOCKETS_PER_USER,
        )
        generation = await generations.announced()
        await self.send_frame(ReadyFrame(user=self.user_id, limits=limits, generation=generation))

    @property
    def identity(self) -> PublicIdentity:
        """The user's public identity, parsed and its self-signature checked when a send
        first needs it: most sockets of a reconnect storm send nothing."""
        if self._identity is None:
            self._identity = PublicIdentity.from_bytes(self.identity_bytes)
        return self._identity

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        """Closes the socket with ``code`` as a plain integer, and on Daphne with the twin
        of a code its websocket library refuses (``protocol.errors.ON_DAPHNE``): it sends
        neither an ``IntEnum`` nor 1009 or 1012, and the application crashed instead.
        Nothing is sent after it (uvicorn raises for a frame after the close)."""
        self.gone = True
        if isinstance(code, int) and not isinstance(code, bool):
            if settings.CONFIDE_SERVER == "daphne" and code in ON_DAPHNE:
                code = ON_DAPHNE[CloseCode(code)]
            code = int(code)
        await super().close(code=code, reason=reason)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        """Channels' own ends every socket with a hop to the shared database thread, to
        close old connections there: about a quarter of a disconnect's CPU
        (docs/performance.md). Every database call of the consumer closes them around
        itself already (``database_sync_to_async``), and the consumer has no groups of
        Channels' kind (``leave`` discards the user's), so it only leaves."""
        await self.disconnect(message.get("code", 1005))
        raise StopConsumer

    async def disconnect(self, code: int) -> None:
        """Runs when the client or the server closes the socket."""
        await self.leave()

    async def leave(self) -> None:
        """Leaves the user's group and gives the lease back, each once."""
        self.gone = True
        joined, self.joined = self.joined, False
        leased, self.leased = self.leased, False
        try:
            if joined:
                SOCKETS_OPEN.dec()
                sessions.watch().discard(self.channel_name)
                await self.channel_layer.group_discard(
                    events.user_group(self.user_id), self.channel_name
                )
        finally:
            if leased:
                await release_socket(self.user_id, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Runs for each frame from the client."""
        if not self.joined:
            return
        if text_data is None:
            await self.send_frame(
                ErrorFrame(code=ErrorCode.BAD_FRAME, message="Frames must be JSON text frames.")
            )
            return
        if len(text_data) > settings.CONFIDE_MAX_FRAME_BYTES:
            await self.send_frame(
                ErrorFrame(
                    code=ErrorCode.FRAME_TOO_LARGE,
                    message=f"Frames may be at most {settings.CONFIDE_MAX_FRAME_BYTES} bytes.",
                )
            )
            await self.close(code=CloseCode.FRAME_TOO_LARGE)
            return
        frame: ClientFrame | None = None
        try:
            # Every frame is charged, malformed ones too, before any parsing work.
            wait = self.bucket.take()
            if wait:
                raise RateLimitedError(
                    "Too many frames; retry later.", retry_after_ms=int(wait * 1000) + 1
                )
            frame = parse_client_frame(text_data)
            await self.dispatch_frame(frame)
        except ApiError as exc:
            if isinstance(frame, SendFrame):
                MESSAGES_REFUSED.labels(code=exc.code.value).inc()
            ref = frame.ref if frame is not None else _ref_of(text_data)
            await self.send_frame(ErrorFrame.of(exc, ref))
        except Exception:
            # No frame ends a socket: whatever went wrong is answered, and the socket goes on.
            log.exception("unexpected error handling a frame")
            ref = frame.ref if frame is not None else None
            await self.send_frame(ErrorFrame.of(ApiError("Unexpected server error."), ref))

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' own ``dispatch`` first hops to the shared database thread to close old
        connections, for every frame and every event: three hops per message. Every
        database call here already does that on its way (``database_sync_to_async``), and
        the writer keeps its own connection, so the hop is skipped."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def dispatch_frame(self, frame: ClientFrame) -> None:
        if isinstance(frame, SendFrame | RekeyFrame) and self.agreement is not None:
            await self.agreement.require()
        if isinstance(frame, SendFrame):
            self.on_send(frame)
        elif isinstance(frame, SyncFrame):
            await self.on_sync(frame)
        elif isinstance(frame, HistoryFrame):
            await self.on_history(frame)
        elif isinstance(frame, ReadFrame):
            seq = await receipts.mark_read(self.user_id, frame.conversation, frame.seq)
            await self.send_frame(
                ReadOkFrame(ref=frame.ref, conversation=frame.conversation, seq=seq)
            )
        elif isinstance(frame, TypingFrame):
            await receipts.typing(self.user_id, frame.conversation)
        elif isinstance(frame, RekeyFrame):
            await self.on_rekey(frame)
        elif isinstance(frame, PingFrame):
            await self.send_frame(PongFrame(ref=frame.ref))

    def on_send(self, frame: SendFrame) -> None:
        """Queues the message and goes on reading frames; the ack (or the error) is sent
        when its batch has committed."""
        ciphertext = _decode(frame.ciphertext, "ciphertext")
        pending = messages.submit_message(
            self.user_id,
            self.identity,
            frame.conversation,
            frame.client_message_id,
            frame.epoch,
            ciphertext,
            origin=self.channel_name,
        )
        task = asyncio.ensure_future(self.acknowledge(frame, pending, time.monotonic()))
        self.sends.add(task)
        task.add_done_callback(self.sends.discard)

    async def acknowledge(
        self, frame: SendFrame, pending: messages.PendingSend, received: float
    ) -> None:
        try:
            stored = await pending.stored()
        except ApiError as exc:
            MESSAGES_REFUSED.labels(code=exc.code.value).inc()
            if not self.gone:
                await self.send_frame(ErrorFrame.of(exc, frame.ref))
            return
        except Exception:
            log.exception("unexpected error storing a message")
            if not self.gone:
                await self.send_frame(
                    ErrorFrame.of(ApiError("Unexpected server error."), frame.ref)
                )
            return
        if not stored.duplicate:
            MESSAGES_STORED.inc()
        if self.gone:
            return  # the client resends; the server answers it as a duplicate
        await self.send_frame(
            AckFrame(
                ref=frame.ref,
                conversation=frame.conversation,
                client_message_id=frame.client_message_id,
                seq=stored.seq,
                sent_at=stored.created_at,
                duplicate=stored.duplicate,
            )
        )
        ACK_SECONDS.observe(time.monotonic() - received)

    async def on_sync(self, frame: SyncFrame) -> None:
        pages = await messages.sync_messages(
            self.user_id, dict(frame.after), messages.page_limit(None)
        )
        await self.send_frame(
            SyncReply(
                ref=frame.ref,
                conversations=[
                    SyncPage(
                        conversation=page.conversation_id,
                        messages=list(page.messages),
                        has_more=page.has_more,
                        last_seq=page.last_seq,
                        restored_at=page.restored_at,
                        status=page.status,
                    )
                    for page in pages
                ],
            )
        )

    async def on_history(self, frame: HistoryFrame) -> None:
        page = await messages.history(
            self.user_id, frame.conversation, frame.before, messages.page_limit(frame.limit)
        )
        await self.send_frame(
            HistoryReply(
                ref=frame.ref,
                conversation=page.conversation_id,
                messages=list(page.messages),
                has_more=page.has_more,
                last_seq=page.last_seq,
                status=page.status,
            )
        )

    async def on_rekey(self, frame: RekeyFrame) -> None:
        envelopes = [
            (item.recipient, _decode(item.envelope, "envelope")) for item in frame.envelopes
        ]
        await epochs.start_epoch(self.user_id, frame.conversation, frame.epoch, envelopes)
        await self.send_frame(
            RekeyOkFrame(ref=frame.ref, conversation=frame.conversation, epoch=frame.epoch)
        )

    # --- events from the channel layer ---------------------------------------------------

    async def deliver(self, event: dict[str, Any]) -> None:
        """Runs for each event sent to the user's group: forwards its frame (encoded once,
        by ``services.events``, for every socket)."""
        await self.send(text_data=event["text"])

    async def layer_reset(self, event: dict[str, Any]) -> None:
        """Runs when this socket may have missed events (its queue overflowed, or the
        channel layer lost Redis for a while): closes it so that the client reconnects and
        backfills from the database (docs/protocol.md)."""
        await self.close(code=CloseCode.SERVICE_RESTART)

    async def agreement_changed(self, event: dict[str, Any]) -> None:
        """Runs when the practice published a new messaging agreement: the client's next
        send asks again whether they accepted it."""
        if self.agreement is not None:
            self.agreement.forget()

    async def session_revoked(self, event: dict[str, Any]) -> None:
        """Runs on sign-out or deactivation: closes this socket if it belongs to that session."""
        session_key = event.get("session_key")
        if session_key is None or session_key == self.session_key:
            await self.close(code=CloseCode.SESSION_ENDED)

    async def send_frame(self, frame: ToClient) -> None:
        await self.send(text_data=encode(frame))

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Sends a frame; one for a socket that closed meanwhile (an event racing its
        close) is dropped, as the client syncs after it reconnects. Daphne raised, and
        logged the application as crashed."""
        if self.gone:
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except _CLOSED_SOCKET:
            self.gone = True


# What each server raises for a frame sent to a socket that has closed (uvicorn, Daphne).
_CLOSED_SOCKET = (ClientDisconnected, Disconnected)


def _decode(text: str, what: str) -> bytes:
    try:
        return crypto.b64decode(text)
    except CryptoError as exc:
        raise FrameError(f"Invalid frame: {what}: {exc}") from None


_REF = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _ref_of(text: str) -> str | None:
    """The ``ref`` of a frame that failed validation, if it can be read, so the error can be
    matched to its request."""
    data = loads(text)
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) and _REF.fullmatch(ref) else None


__all__ = ["MessagingConsumer"]
