"""The websocket consumer: parse, authorise, call a service, reply.

One socket per signed-in tab carries all of the user's conversations. Every
frame is checked against its schema before anything else happens, and every
service call checks membership in the database, so authorisation holds on
every frame and not only at connect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Coroutine
from importlib import import_module
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.utils.crypto import constant_time_compare

import crypto
from crypto import CryptoError, PublicIdentity
from messaging import services
from messaging.errors import ErrorCode, MessagingError, RateLimitedError
from messaging.frames import (
    ClientFrame,
    FrameError,
    HistoryFrame,
    PingFrame,
    ReadFrame,
    RekeyFrame,
    SendFrame,
    SyncFrame,
    TypingFrame,
    parse_frame,
)
from messaging.limits import TokenBucket, claim_socket, release_socket
from portal.accounts.models import User

log = logging.getLogger(__name__)

# Close codes (docs/protocol.md).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4001
CLOSE_TOO_MANY_SOCKETS = 4008
CLOSE_FRAME_TOO_LARGE = 1009
CLOSE_SERVICE_RESTART = 1012

SESSION_RECHECK_SECONDS = 30.0


def _session_still_valid(session_key: str | None, user_id: int) -> bool:
    """The session exists, names this user, and the user is active with the same credentials."""
    if not session_key:
        return False
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()
    if str(data.get(SESSION_KEY)) != str(user_id):
        return False
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    return constant_time_compare(str(data.get(HASH_SESSION_KEY, "")), user.get_session_auth_hash())


class MessagingConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    """One signed-in tab's socket."""

    user_id: int
    identity: PublicIdentity
    session_key: str | None
    joined: bool = False
    gone: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sends: set[asyncio.Future[None]] = set()

    async def connect(self) -> None:
        """Runs at the handshake: authenticate, apply the socket limit, join the user's group."""
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.identity = PublicIdentity.from_bytes(bytes(user.public_identity))
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        if not await claim_socket(
            self.user_id, self.channel_name, settings.CONFIDE_MAX_SOCKETS_PER_USER
        ):
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.bucket = TokenBucket(settings.CONFIDE_MESSAGE_RATE, settings.CONFIDE_MESSAGE_BURST)
        # Spread over the interval, so that sockets that connected together (after a
        # restart, say) do not all re-check at once.
        self.checked_at = time.monotonic() - random.uniform(0, SESSION_RECHECK_SECONDS)  # noqa: S311
        await self.channel_layer.group_add(services.user_group(self.user_id), self.channel_name)
        self.joined = True
        await self.send_json(
            {
                "type": "ready",
                "user": self.user_id,
                "limits": {
                    "max_frame_bytes": settings.CONFIDE_MAX_FRAME_BYTES,
                    "message_rate": settings.CONFIDE_MESSAGE_RATE,
                    "message_burst": settings.CONFIDE_MESSAGE_BURST,
                    "history_page": settings.CONFIDE_HISTORY_PAGE,
                    "max_sockets": settings.CONFIDE_MAX_SOCKETS_PER_USER,
                },
            }
        )

    async def disconnect(self, code: int) -> None:
        """Runs when the socket closes, for any reason."""
        self.gone = True
        if self.joined:
            self.joined = False
            await self.channel_layer.group_discard(
                services.user_group(self.user_id), self.channel_name
            )
            await release_socket(self.user_id, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Runs for each frame from the client."""
        if not self.joined:
            return
        if text_data is None:
            await self.send_error(ErrorCode.BAD_FRAME, "Frames must be JSON text frames.")
            return
        if len(text_data) > settings.CONFIDE_MAX_FRAME_BYTES:
            await self.send_error(
                ErrorCode.FRAME_TOO_LARGE,
                f"Frames may be at most {settings.CONFIDE_MAX_FRAME_BYTES} bytes.",
            )
            await self.close(code=CLOSE_FRAME_TOO_LARGE)
            return
        frame: ClientFrame | None = None
        try:
            # Every frame is charged, malformed ones too, before any parsing work.
            wait = self.bucket.take()
            if wait:
                raise RateLimitedError(
                    "Too many frames; retry later.", retry_after_ms=int(wait * 1000) + 1
                )
            frame = parse_frame(text_data)
            if not await self.session_still_valid():
                await self.close(code=CLOSE_SESSION_ENDED)
                return
            await self.dispatch_frame(frame)
        except MessagingError as exc:
            ref = frame.ref if frame is not None else _ref_of(text_data)
            await self.send_error(exc.code, exc.message, ref=ref, **exc.data)
        except Exception:
            log.exception("unexpected error handling a frame")
            ref = frame.ref if frame is not None else None
            await self.send_error(ErrorCode.SERVER_ERROR, "Unexpected server error.", ref=ref)

    async def session_still_valid(self) -> bool:
        """Re-checks the session now and then, so a missed sign-out event still ends the socket."""
        now = time.monotonic()
        if now - self.checked_at < SESSION_RECHECK_SECONDS:
            return True
        self.checked_at = now
        valid: bool = await database_sync_to_async(_session_still_valid)(
            self.session_key, self.user_id
        )
        return valid

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
        if isinstance(frame, SendFrame):
            await self.on_send(frame)
        elif isinstance(frame, SyncFrame):
            await self.on_sync(frame)
        elif isinstance(frame, HistoryFrame):
            await self.on_history(frame)
        elif isinstance(frame, ReadFrame):
            seq = await services.mark_read(self.user_id, frame.conversation, frame.seq)
            await self.reply(
                frame, {"type": "read_ok", "conversation": str(frame.conversation), "seq": seq}
            )
        elif isinstance(frame, TypingFrame):
            await services.typing(self.user_id, frame.conversation)
        elif isinstance(frame, RekeyFrame):
            await self.on_rekey(frame)
        elif isinstance(frame, PingFrame):
            await self.reply(frame, {"type": "pong"})

    async def on_send(self, frame: SendFrame) -> None:
        """Queues the message and goes on reading frames; the ack (or the error) is sent
        when its batch has committed."""
        ciphertext = _decode(frame.ciphertext, "ciphertext")
        stored = services.submit_message(
            self.user_id,
            self.identity,
            frame.conversation,
            frame.client_message_id,
            frame.epoch,
            ciphertext,
        )
        task = asyncio.ensure_future(self.acknowledge(frame, stored))
        self.sends.add(task)
        task.add_done_callback(self.sends.discard)

    async def acknowledge(
        self, frame: SendFrame, pending: Coroutine[Any, Any, services.StoredMessage]
    ) -> None:
        try:
            stored = await pending
        except MessagingError as exc:
            if not self.gone:
                await self.send_error(exc.code, exc.message, ref=frame.ref, **exc.data)
            return
        except Exception:
            log.exception("unexpected error storing a message")
            if not self.gone:
                await self.send_error(ErrorCode.SERVER_ERROR, "Unexpected server error.", frame.ref)
            return
        if self.gone:
            return  # the client resends; the server answers it as a duplicate
        await self.reply(
            frame,
            {
                "type": "ack",
                "conversation": str(frame.conversation),
                "client_message_id": str(frame.client_message_id),
                "seq": stored.seq,
                "sent_at": stored.created_at.isoformat(),
                "duplicate": stored.duplicate,
            },
        )

    async def on_sync(self, frame: SyncFrame) -> None:
        pages = await services.sync_messages(
            self.user_id, dict(frame.after), services.page_limit(None)
        )
        await self.reply(
            frame,
            {
                "type": "sync",
                "conversations": [
                    {
                        "conversation": str(page.conversation_id),
                        "messages": list(page.messages),
                        "has_more": page.has_more,
                        "last_seq": page.last_seq,
                    }
                    for page in pages
                ],
            },
        )

    async def on_history(self, frame: HistoryFrame) -> None:
        page = await services.history(
            self.user_id, frame.conversation, frame.before, services.page_limit(frame.limit)
        )
        await self.reply(
            frame,
            {
                "type": "history",
                "conversation": str(page.conversation_id),
                "messages": list(page.messages),
                "has_more": page.has_more,
                "last_seq": page.last_seq,
            },
        )

    async def on_rekey(self, frame: RekeyFrame) -> None:
        envelopes = [
            (item.recipient, _decode(item.envelope, "envelope")) for item in frame.envelopes
        ]
        await services.start_epoch(self.user_id, frame.conversation, frame.epoch, envelopes)
        await self.reply(
            frame,
            {"type": "rekey_ok", "conversation": str(frame.conversation), "epoch": frame.epoch},
        )

    # --- events from the channel layer ---------------------------------------------------

    async def deliver(self, event: dict[str, Any]) -> None:
        """Runs for each event sent to the user's group: forwards its frame (encoded once,
        by ``services.broadcast``, for every socket)."""
        await self.send(text_data=event["text"])

    async def layer_reset(self, event: dict[str, Any]) -> None:
        """Runs when this socket may have missed events (its queue overflowed, or the
        channel layer lost Redis for a while): closes it so that the client reconnects and
        backfills from the database (docs/protocol.md)."""
        await self.close(code=CLOSE_SERVICE_RESTART)

    async def session_revoked(self, event: dict[str, Any]) -> None:
        """Runs on sign-out or deactivation: closes this socket if it belongs to that session."""
        session_key = event.get("session_key")
        if session_key is None or session_key == self.session_key:
            await self.close(code=CLOSE_SESSION_ENDED)

    # --- replies -------------------------------------------------------------------------

    async def reply(self, frame: ClientFrame, body: dict[str, Any]) -> None:
        if frame.ref is not None:
            body["ref"] = frame.ref
        await self.send_json(body)

    async def send_error(
        self, code: ErrorCode, message: str, ref: str | None = None, **data: object
    ) -> None:
        body: dict[str, object] = {"type": "error", "code": str(code), "message": message, **data}
        if ref is not None:
            body["ref"] = ref
        await self.send_json(body)

    async def send_json(self, body: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(body, separators=(",", ":")))


def _decode(text: str, what: str) -> bytes:
    try:
        return crypto.b64decode(text)
    except CryptoError as exc:
        raise FrameError(f"Invalid frame: {what}: {exc}") from None


_REF = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def _ref_of(text: str) -> str | None:
    """The ``ref`` of a frame that failed validation, if it can be read, so the error can be
    matched to its request."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) and _REF.fullmatch(ref) else None


__all__ = ["MessagingConsumer"]
