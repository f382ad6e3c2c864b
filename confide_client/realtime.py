"""The websocket: one connection at a time, reconnected with backoff until closed.

This module knows frames, not messages: it matches replies to requests by ``ref``, paces
outgoing frames to the limits the server announced in ``ready``, and hands every other
frame (pushes, and replies nobody waits for any more) to a callback that must not block.
What a frame means is the client's business (``portal.client.client``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from portal.client.backoff import Backoff
from portal.client.errors import (
    ClientClosedError,
    ClientError,
    ConnectionLostError,
    MessageTooLargeError,
    ProtocolError,
    ReplyTimeoutError,
    SessionEndedError,
    error_from_server,
)

__all__ = ["Limits", "Pacer", "Realtime"]

log = logging.getLogger(__name__)

# Close codes after which reconnecting cannot help (docs/protocol.md).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_SESSION_ENDED = 4001
_FATAL_CLOSE_CODES = {CLOSE_UNAUTHENTICATED, CLOSE_SESSION_ENDED}
# The largest frame accepted from the server: a full sync page of large messages.
MAX_INCOMING_FRAME = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits the server announced in its ``ready`` frame."""

    max_frame_bytes: int
    message_rate: int
    message_burst: int
    history_page: int
    max_sockets: int

    @classmethod
    def from_frame(cls, frame: dict[str, Any]) -> Limits:
        raw = frame.get("limits")
        if not isinstance(raw, dict):
            raise ProtocolError("The ready frame has no limits")
        values: dict[str, int] = {}
        for name in ("max_frame_bytes", "message_rate", "message_burst", "history_page"):
            value = raw.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ProtocolError(f"The ready frame's limit {name} is not a positive integer")
            values[name] = value
        sockets = raw.get("max_sockets")
        return cls(max_sockets=sockets if isinstance(sockets, int) else 1, **values)


class Pacer:
    """A client-side token bucket a little below the server's, so that a busy client waits
    instead of being answered ``rate_limited``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = max(rate * 0.95, 0.1)
        self.burst = max(burst - 2, 1)
        self.tokens = float(self.burst)
        self.updated = time.monotonic()

    async def acquire(self) -> None:
        """Waits until one more frame may go; callers reserve in turn, so none starves."""
        now = time.monotonic()
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        if self.tokens < 0:
            await asyncio.sleep(-self.tokens / self.rate)


class Realtime:
    """The client's websocket, kept open until :meth:`close`.

    ``on_frame`` receives every frame that is not a reply someone is waiting for;
    ``on_ready`` runs after each (re)connect, once the server's ``ready`` arrived. Both are
    called from the reader and must not block.
    """

    def __init__(
        self,
        url: str,
        *,
        origin: str,
        cookie: Callable[[], str | None],
        on_frame: Callable[[dict[str, Any]], None],
        on_ready: Callable[[int, Limits], None],
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        max_attempts: int | None = None,
    ) -> None:
        self.url = url
        self.origin = origin
        self._cookie = cookie
        self._on_frame = on_frame
        self._on_ready = on_ready
        self.backoff = backoff if backoff is not None else Backoff()
        self.open_timeout = open_timeout
        self.max_attempts = max_attempts
        self.limits: Limits | None = None
        self.connections = 0
        self.connected = asyncio.Event()
        self._stopped = asyncio.Event()
        self._fatal: ClientError | None = None
        self._closing = False
        self._ws: ClientConnection | None = None
        self._pacer: Pacer | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._refs = itertools.count(1)
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Starts connecting in the background (idempotent)."""
        if self._task is None and not self._closing:
            self._task = asyncio.create_task(self._run(), name="confide-websocket")

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Returns once connected; raises if the session ended, the client closed, or
        ``timeout`` passed first."""
        self._raise_if_stopped()
        if self.connected.is_set():
            return
        waiters = {
            asyncio.create_task(self.connected.wait()),
            asyncio.create_task(self._stopped.wait()),
        }
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._raise_if_stopped()
        if not self.connected.is_set():
            raise ReplyTimeoutError("The websocket did not connect in time")

    def abort(self) -> None:
        """Drops the TCP connection at once, without a closing handshake; the client then
        reconnects as after any network failure."""
        ws = self._ws
        if ws is not None:
            ws.transport.abort()

    async def close(self) -> None:
        """Closes the socket and stops reconnecting; waiting requests raise
        :class:`ClientClosedError`."""
        self._closing = True
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._fail_pending(ClientClosedError("The client was closed"))

    @property
    def fatal_error(self) -> ClientError | None:
        """Why the socket stopped for good, if it did."""
        return self._fatal

    def _raise_if_stopped(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._closing:
            raise ClientClosedError("The client was closed")

    # --- requests ------------------------------------------------------------------------

    async def call(self, frame: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Sends ``frame`` and returns its reply (matched by ``ref``).

        Raises :class:`ConnectionLostError` if not connected or the socket closes first,
        :class:`ReplyTimeoutError` after ``timeout`` seconds, and the server's error (a
        :class:`ServerRefusedError`) if the reply is an ``error`` frame.
        """
        ws, text, ref = await self._prepare(frame)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        try:
            await self._transmit(ws, text)
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ReplyTimeoutError(f"No reply to {frame.get('type')} in {timeout} s") from None
        finally:
            self._pending.pop(ref, None)
        if reply.get("type") == "error":
            raise error_from_server(reply.get("code"), reply.get("message"), reply)
        return reply

    async def send(self, frame: dict[str, Any]) -> str:
        """Sends ``frame`` without waiting for a reply; returns its ``ref`` (an error that
        answers it reaches ``on_frame``)."""
        ws, text, ref = await self._prepare(frame)
        await self._transmit(ws, text)
        return ref

    async def _prepare(self, frame: dict[str, Any]) -> tuple[ClientConnection, str, str]:
        self._raise_if_stopped()
        ws = self._ws
        if ws is None or self._pacer is None:
            raise ConnectionLostError("The websocket is not connected")
        ref = f"r{next(self._refs)}"
        text = json.dumps({**frame, "ref": ref}, separators=(",", ":"))
        if self.limits is not None and len(text) > self.limits.max_frame_bytes:
            raise MessageTooLargeError(
                f"The frame is {len(text)} characters; the server accepts at most "
                f"{self.limits.max_frame_bytes}"
            )
        await self._pacer.acquire()
        return ws, text, ref

    async def _transmit(self, ws: ClientConnection, text: str) -> None:
        if ws is not self._ws:
            raise ConnectionLostError("The websocket reconnected while the frame waited")
        try:
            await ws.send(text)
        except ConnectionClosed:
            raise ConnectionLostError("The websocket closed while sending") from None

    # --- the connection loop -------------------------------------------------------------

    async def _run(self) -> None:
        attempts = 0
        while not self._closing:
            attempts += 1
            try:
                await self._connect_once()
                attempts = 0
            except ClientError as exc:
                if isinstance(exc, SessionEndedError) or exc.code == "forbidden":
                    self._stop(exc)
                    return
                log.info("websocket attempt failed: %s", exc.code)
            except Exception:  # a bug must not end the reconnect loop silently
                log.exception("unexpected failure of the websocket")
            if self._closing:
                return
            if self.max_attempts is not None and attempts >= self.max_attempts:
                self._stop(ConnectionLostError("The server could not be reached; gave up"))
                return
            await asyncio.sleep(self.backoff.next_delay())

    def _stop(self, error: ClientError) -> None:
        self._fatal = error
        self._stopped.set()
        self._fail_pending(error)

    async def _connect_once(self) -> None:
        """One connection, from the handshake to its close. Returns normally after a
        connection that reached ``ready``; raises a :class:`ClientError` otherwise."""
        headers = {"Origin": self.origin}
        session = self._cookie()
        if session is not None:
            headers["Cookie"] = f"sessionid={session}"
        try:
            ws = await connect(
                self.url,
                additional_headers=headers,
                open_timeout=self.open_timeout,
                compression=None,  # ciphertext does not compress; deflate costs memory
                max_size=MAX_INCOMING_FRAME,
                proxy=None,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            code = "forbidden" if status == 403 else "handshake_refused"
            raise ConnectionLostError(
                f"The server refused the websocket (HTTP {status})", code=code
            ) from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise ConnectionLostError(
                f"The websocket could not connect: {type(exc).__name__}"
            ) from None
        try:
            ready = await self._await_ready(ws)
            limits = Limits.from_frame(ready)
            user = ready.get("user")
            if isinstance(user, bool) or not isinstance(user, int):
                raise ProtocolError("The ready frame has no user id")
            self.limits = limits
            self._pacer = Pacer(limits.message_rate, limits.message_burst)
            self._ws = ws
            self.connections += 1
            self.backoff.reset()
            self.connected.set()
            self._on_ready(user, limits)
            await self._read(ws)
        finally:
            self._ws = None
            self._pacer = None
            self.connected.clear()
            self._fail_pending(ConnectionLostError("The websocket closed"))
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)
        close_code = ws.close_code
        if close_code in _FATAL_CLOSE_CODES:
            raise SessionEndedError(f"The server ended the session (close code {close_code})")

    async def _await_ready(self, ws: ClientConnection) -> dict[str, Any]:
        try:
            text = await asyncio.wait_for(ws.recv(), self.open_timeout)
        except ConnectionClosed:
            code = ws.close_code
            if code in _FATAL_CLOSE_CODES:
                raise SessionEndedError(
                    f"The server ended the session (close code {code})"
                ) from None
            raise ConnectionLostError(f"The websocket closed before ready ({code})") from None
        except TimeoutError:
            raise ConnectionLostError("No ready frame in time") from None
        frame = _parse(text)
        if frame is None or frame.get("type") != "ready":
            raise ProtocolError("The first frame was not ready")
        return frame

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                frame = _parse(text)
                if frame is None:
                    log.warning("ignored a frame that is not a JSON object")
                    continue
                ref = frame.get("ref")
                future = self._pending.pop(ref, None) if isinstance(ref, str) else None
                if future is not None:
                    if not future.done():
                        future.set_result(frame)
                    continue
                try:
                    self._on_frame(frame)
                except Exception:  # one bad frame must not end the connection
                    log.exception("frame handler failed")
        except ConnectionClosed:
            pass

    def _fail_pending(self, error: ClientError) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)


def _parse(text: str | bytes) -> dict[str, Any] | None:
    if isinstance(text, bytes):
        return None
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None
