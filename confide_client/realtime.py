"""The websocket: one connection at a time, reconnected with backoff until closed.

This module knows frames, not messages: it sends the models of ``protocol.to_server``,
reads every frame with ``protocol.to_client.parse_server_frame``, matches replies to
requests by ``ref``, paces outgoing frames to the limits the server announced in ``ready``,
and hands every other frame (pushes, and replies nobody waits for any more) to a callback
that must not block. What a frame means is the client's business
(``confide_client.client``).

A frame off the protocol is never handed on. If it names a request still waiting (its raw
JSON carries that ``ref``), that request fails with :class:`ProtocolError` at once rather
than running into its timeout; any other such frame is logged (where it is wrong, never
what it holds) and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from confide_client.backoff import Backoff
from confide_client.errors import (
    ClientClosedError,
    ClientError,
    ConnectionLostError,
    MessageTooLargeError,
    ProtocolError,
    ReplyTimeoutError,
    SessionEndedError,
    refusal,
)
from confide_client.records import ConnectionState, ConnectionStatus
from protocol.common import MalformedError, encode, loads
from protocol.errors import SESSION_GONE
from protocol.limits import Limits
from protocol.to_client import AckFrame, ErrorFrame, ReadyFrame, ServerFrame, parse_server_frame
from protocol.to_server import ClientFrame

__all__ = ["Limits", "Pacer", "Realtime"]

log = logging.getLogger(__name__)

# The largest frame accepted from the server: a full sync page of large messages.
MAX_INCOMING_FRAME = 64 * 1024 * 1024


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
    ``on_ack`` every ``ack``, awaited or not, before anyone hears of it;
    ``on_ready`` runs after each (re)connect, once the server's ``ready`` arrived, with
    the user, the limits and the database generation it announces. All three are
    called from the reader and must not block. ``on_status`` is told every change of
    :attr:`status` (it must not block either).
    """

    def __init__(
        self,
        url: str,
        *,
        origin: str,
        cookie: Callable[[], str | None],
        on_frame: Callable[[ServerFrame], None],
        on_ready: Callable[[int, Limits, str | None], None],
        on_ack: Callable[[AckFrame], None] | None = None,
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        max_attempts: int | None = None,
        on_status: Callable[[ConnectionStatus], None] | None = None,
    ) -> None:
        self.url = url
        self.origin = origin
        self._cookie = cookie
        self._on_frame = on_frame
        self._on_ready = on_ready
        self._on_ack = on_ack
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
        self._pending: dict[str, asyncio.Future[ServerFrame]] = {}
        self._refs = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._on_status = on_status
        self.status = ConnectionStatus(ConnectionState.OFFLINE, reason="not_connected")

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Starts connecting in the background (idempotent)."""
        if self._task is None and not self._closing:
            self._set_status(ConnectionStatus(ConnectionState.CONNECTING, attempt=1))
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
        if self._fatal is None:
            self._set_status(ConnectionStatus(ConnectionState.STOPPED, reason="closed"))
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

    def _set_status(self, status: ConnectionStatus) -> None:
        if status == self.status:
            return
        self.status = status
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:  # a listener's bug must not stop the connection
                log.exception("connection status handler failed")

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

    async def call(self, frame: ClientFrame, timeout: float) -> ServerFrame:
        """Sends ``frame`` (under a ``ref`` of its own) and returns its reply.

        Raises :class:`ConnectionLostError` if not connected or the socket closes first,
        :class:`ReplyTimeoutError` after ``timeout`` seconds, :class:`ProtocolError` if the
        reply is off the protocol, and the server's error (a :class:`ServerRefusedError`)
        if the reply is an ``error`` frame.
        """
        ws, text, ref = await self._prepare(frame)
        future: asyncio.Future[ServerFrame] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        try:
            await self._transmit(ws, text)
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise ReplyTimeoutError(f"No reply to {frame.type} in {timeout} s") from None
        finally:
            self._pending.pop(ref, None)
        if isinstance(reply, ErrorFrame):
            raise refusal(reply.code, reply.message, reply)
        return reply

    async def send(self, frame: ClientFrame) -> str:
        """Sends ``frame`` without waiting for a reply; returns its ``ref`` (an error that
        answers it reaches ``on_frame``)."""
        ws, text, ref = await self._prepare(frame)
        await self._transmit(ws, text)
        return ref

    async def _prepare(self, frame: ClientFrame) -> tuple[ClientConnection, str, str]:
        self._raise_if_stopped()
        ws = self._ws
        if ws is None or self._pacer is None:
            raise ConnectionLostError("The websocket is not connected")
        ref = f"r{next(self._refs)}"
        text = encode(frame.model_copy(update={"ref": ref}))
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
            reason = ConnectionLostError.code
            try:
                await self._connect_once()
                attempts = 0
            except ClientError as exc:
                if isinstance(exc, SessionEndedError) or exc.code == "forbidden":
                    self._stop(exc, ConnectionState.STOPPED)
                    return
                log.info("websocket attempt failed: %s", exc.code)
                reason = exc.code
            except Exception:  # a bug must not end the reconnect loop silently
                log.exception("unexpected failure of the websocket")
            if self._closing:
                return
            if self.max_attempts is not None and attempts >= self.max_attempts:
                error = ConnectionLostError("The server could not be reached; gave up")
                self._stop(error, ConnectionState.OFFLINE)
                return
            delay = self.backoff.next_delay()
            self._set_status(
                ConnectionStatus(
                    ConnectionState.RECONNECTING,
                    reason=reason,
                    retry_in=delay,
                    attempt=attempts + 1,
                )
            )
            await asyncio.sleep(delay)

    def _stop(self, error: ClientError, state: ConnectionState) -> None:
        self._fatal = error
        self._stopped.set()
        self._set_status(ConnectionStatus(state, reason=error.code))
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
            limits = ready.limits
            self.limits = limits
            self._pacer = Pacer(limits.message_rate, limits.message_burst)
            self._ws = ws
            self.connections += 1
            self.backoff.reset()
            self.connected.set()
            self._set_status(ConnectionStatus(ConnectionState.CONNECTED))
            self._on_ready(ready.user, limits, ready.generation)
            await self._read(ws)
        finally:
            self._ws = None
            self._pacer = None
            self.connected.clear()
            self._fail_pending(ConnectionLostError("The websocket closed"))
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)
        close_code = ws.close_code
        if close_code in SESSION_GONE:
            raise SessionEndedError(f"The server ended the session (close code {close_code})")

    async def _await_ready(self, ws: ClientConnection) -> ReadyFrame:
        try:
            text = await asyncio.wait_for(ws.recv(), self.open_timeout)
        except ConnectionClosed:
            code = ws.close_code
            if code in SESSION_GONE:
                raise SessionEndedError(
                    f"The server ended the session (close code {code})"
                ) from None
            raise ConnectionLostError(f"The websocket closed before ready ({code})") from None
        except TimeoutError:
            raise ConnectionLostError("No ready frame in time") from None
        if isinstance(text, bytes):
            raise ProtocolError("The first frame was binary, not ready")
        try:
            frame = parse_server_frame(text)
        except MalformedError as exc:
            raise ProtocolError(f"The first frame is off the protocol: {exc}") from None
        if not isinstance(frame, ReadyFrame):
            raise ProtocolError("The first frame was not ready")
        return frame

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                self._dispatch(text)
        except ConnectionClosed:
            pass

    def _dispatch(self, text: str | bytes) -> None:
        """One frame from the server: to the request waiting for it, or to ``on_frame``."""
        if isinstance(text, bytes):
            log.warning("ignored a binary frame")
            return
        try:
            frame = parse_server_frame(text)
        except MalformedError as exc:
            self._off_protocol(text, str(exc))
            return
        if isinstance(frame, AckFrame) and self._on_ack is not None:
            try:
                self._on_ack(frame)
            except Exception:  # one bad frame must not end the connection
                log.exception("ack handler failed")
        future = self._pending.pop(frame.ref, None) if frame.ref is not None else None
        if future is not None:
            if not future.done():
                future.set_result(frame)
            return
        try:
            self._on_frame(frame)
        except Exception:  # one bad frame must not end the connection
            log.exception("frame handler failed")

    def _off_protocol(self, text: str, why: str) -> None:
        """A frame the protocol does not define: fails the request it names, if any.

        Its ``ref`` is read from the raw JSON, since nothing else of it can be trusted; a
        request left waiting would only run into its timeout, and delivery would take that
        for a dead socket."""
        raw = loads(text)
        ref = raw.get("ref") if isinstance(raw, dict) else None
        future = self._pending.pop(ref, None) if isinstance(ref, str) else None
        if future is None:
            log.warning("ignored a frame off the protocol: %s", why)
            return
        if not future.done():
            future.set_exception(ProtocolError(f"The reply is off the protocol: {why}"))

    def _fail_pending(self, error: ClientError) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)
