"""Logs: one line per event, with the request id of the request or socket it belongs to.

In production each line is a JSON object (python-json-logger) for a log tool to read; in
the embedded default, plain text for a person at a terminal (``CONFIDE_LOG_FORMAT``). Every
HTTP request gets one ``http_request`` line and every websocket an ``ws_open`` (or
``ws_refused``) and a ``ws_closed`` line, written by :class:`RequestLog` rather than by
uvicorn, so that each carries its request id, and none carries a query string, a header, a
body or a frame.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from portal.asgi_types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("confide.requests")

# The request or socket the running code serves; "-" outside any (start-up, the job worker).
request_id: ContextVar[str] = ContextVar("request_id", default="-")

# A request id the proxy made (nginx's $request_id is 32 hex digits): taken as it is when it
# looks like one, so that the proxy's line and this server's can be matched; anything else
# is replaced, so that a client cannot write into the log.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

# uvicorn logs this with a traceback, though it closes the socket with 1007 as it should:
# a client that sent bad bytes is not a bug of the server's.
_CLIENT_FAULTS = frozenset({"Invalid UTF-8 sequence received from client."})
# What uvicorn and websockets say of every socket, without its request id.
_PER_SOCKET = frozenset({"connection open", "connection closed"})


class ClientFaultsWithoutTraceback(logging.Filter):
    """Keeps the line, at WARNING, and drops the traceback of a client's fault; drops
    uvicorn's own line per socket, which :class:`RequestLog` writes with its request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and (
            '"WebSocket %s"' in record.msg or record.msg in _PER_SOCKET
        ):
            # uvicorn's own line per socket (with the query string): RequestLog writes one.
            return False
        if record.getMessage() in _CLIENT_FAULTS:
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True


class WithRequestId(logging.Filter):
    """Puts the current request id on every line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, and the
    line's ``extra`` fields (``event``, ``status``, ...)."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn's colours, and Django's request object (whose text holds the query
            # string): the message already says what they would.
            reserved_attrs=[*RESERVED_ATTRS, "color_message", "request"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        # RFC 3339 in UTC, to the millisecond.
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """Django's LOGGING: every logger (uvicorn's too: ``serve`` leaves them to this) goes
    to stderr, one line per event."""
    formatters: dict[str, Any] = {
        "json": {"()": "portal.logs.JsonLines"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {log_format: formatters[log_format]},
        "filters": {
            "client_faults": {"()": "portal.logs.ClientFaultsWithoutTraceback"},
            "request_id": {"()": "portal.logs.WithRequestId"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "uvicorn.error": {"filters": ["client_faults"]},
            # Its debug lines name each URL posted to: a push endpoint is a capability.
            "urllib3": {"level": "INFO"},
        },
    }


def _printable(text: str) -> str:
    """``text`` with its control characters escaped (``\\n``, ``\\x1b``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _client(scope: Scope) -> str:
    return str((scope.get("client") or ("-", 0))[0])


def new_request_id(scope: Scope, trust_given: bool) -> str:
    """The proxy's ``X-Request-ID`` when trusted and well formed, else a new one."""
    if trust_given:
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given: str = value.decode("latin-1")
                if _GIVEN_ID.fullmatch(given):
                    return given
                break
    return secrets.token_hex(8)


class RequestLog:
    """ASGI middleware: a request id for each request and socket (in the context of all
    the code serving it, and in an ``X-Request-ID`` answer header), and one line when it
    ends: method, path (never the query string), status, duration and the address the
    server believed (the proxy's ``X-Forwarded-For`` only from ``CONFIDE_FORWARDED_ALLOW_IPS``,
    portal/asgi.py). ``trusted_peer`` says whether the connecting peer is the proxy, whose
    ``X-Request-ID`` is then kept."""

    def __init__(self, app: ASGIApp, *, trusted_peer: Callable[[str], bool] | None) -> None:
        self.app = app
        self.trusted_peer = trusted_peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = _client(scope)
        trusted = self.trusted_peer is not None and self.trusted_peer(peer)
        rid = new_request_id(scope, trusted)
        token = request_id.set(rid)
        started = time.monotonic()
        # uvicorn decodes %0A and the like: escaped, no path writes a line of its own.
        path = _printable(scope.get("path", ""))
        state: dict[str, Any] = {"status": None, "accepted": False, "close": None}

        async def send_noting(message: Message) -> None:
            what = message["type"]
            if what == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            elif what == "websocket.accept":
                state["accepted"] = True
                log.info(
                    "websocket %s open",
                    path,
                    extra={"event": "ws_open", "client": _client(scope), "path": path},
                )
            elif what == "websocket.close":
                state["close"] = message.get("code", 1000)
            await send(message)

        async def receive_noting() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect" and state["close"] is None:
                state["close"] = message.get("code", 1005)
            return message

        try:
            await self.app(scope, receive_noting if kind == "websocket" else receive, send_noting)
        finally:
            elapsed_ms = round((time.monotonic() - started) * 1000, 1)
            # As the proxy headers made it, when they were believed.
            client = _client(scope)
            if kind == "http":
                status = state["status"] or 500
                method = scope.get("method", "")
                log.info(
                    "%s %s %s %.1f ms",
                    method,
                    path,
                    status,
                    elapsed_ms,
                    extra={
                        "event": "http_request",
                        "client": client,
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": elapsed_ms,
                    },
                )
            elif state["accepted"]:
                log.info(
                    "websocket %s closed (%s) after %.1f s",
                    path,
                    state["close"],
                    elapsed_ms / 1000,
                    extra={
                        "event": "ws_closed",
                        "client": client,
                        "path": path,
                        "close_code": state["close"],
                        "duration_ms": elapsed_ms,
                    },
                )
            else:
                log.info(
                    "websocket %s refused (%s)",
                    path,
                    state["close"],
                    extra={
                        "event": "ws_refused",
                        "client": client,
                        "path": path,
                        "close_code": state["close"],
                    },
                )
            request_id.reset(token)
