"""The client's one exception hierarchy.

Every failure the client reports is a :class:`ClientError` carrying a ``code``. When the
server refused something, ``code`` is the server's documented wire code (docs/protocol.md)
and the exception is a :class:`ServerRefusedError`; the client's own failures (a lost
connection, keys that do not open, a malformed answer) have codes of their own below.
Callers act on ``code`` or on the class, never on the message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "BadCiphertextError",
    "ClientClosedError",
    "ClientError",
    "ConversationRefusedError",
    "ConnectionLostError",
    "ForbiddenError",
    "InvitationInvalidError",
    "KeysError",
    "MessageTooLargeError",
    "NotFoundError",
    "OverloadedError",
    "ProtocolError",
    "RateLimitedError",
    "ReplyTimeoutError",
    "ServerRefusedError",
    "SessionEndedError",
    "StaleEpochError",
    "StateFileError",
    "UnauthenticatedError",
    "UnavailableError",
    "error_from_server",
]


class ClientError(Exception):
    """Base of every error the client raises; ``code`` says what went wrong."""

    code: str = "client_error"

    def __init__(self, message: str, *, code: str | None = None, **data: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.data: Mapping[str, Any] = MappingProxyType(dict(data))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


# --- the server said no -------------------------------------------------------------------


class ServerRefusedError(ClientError):
    """The server answered with an error code (an HTTP error body or an ``error`` frame).

    ``status`` is the HTTP status, or ``None`` for a websocket error frame.
    """

    code = "server_error"

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, **data: Any
    ) -> None:
        super().__init__(message, code=code, **data)
        self.status = status


class UnauthenticatedError(ServerRefusedError):
    """Not signed in, or the email or password is wrong."""

    code = "unauthenticated"


class ForbiddenError(ServerRefusedError):
    """The account's role may not do this."""

    code = "forbidden"


class NotFoundError(ServerRefusedError):
    """No such conversation for this user (also the answer for someone else's)."""

    code = "not_found"


class InvitationInvalidError(ServerRefusedError):
    """The invitation is unknown, used or expired."""

    code = "invitation_invalid"


class StaleEpochError(ServerRefusedError):
    """The message used an epoch older than the conversation's current one."""

    code = "stale_epoch"


class BadCiphertextError(ServerRefusedError):
    """The server rejected the sealed bytes; resending them cannot succeed."""

    code = "bad_ciphertext"


class RateLimitedError(ServerRefusedError):
    """Too many frames or sign-in attempts; ``retry_after`` is in seconds."""

    code = "rate_limited"

    @property
    def retry_after(self) -> float:
        if "retry_after_ms" in self.data:
            return float(self.data["retry_after_ms"]) / 1000
        if "retry_after_s" in self.data:
            return float(self.data["retry_after_s"])
        return 1.0


class OverloadedError(RateLimitedError):
    """The server holds too many waiting sends; nothing was stored. Retry after
    ``retry_after``, like ``rate_limited``."""

    code = "overloaded"


class UnavailableError(ServerRefusedError):
    """The server's database could not be reached; nothing was stored."""

    code = "unavailable"


_BY_CODE: dict[str, type[ServerRefusedError]] = {
    cls.code: cls
    for cls in (
        UnauthenticatedError,
        ForbiddenError,
        NotFoundError,
        InvitationInvalidError,
        StaleEpochError,
        BadCiphertextError,
        RateLimitedError,
        OverloadedError,
        UnavailableError,
    )
}


def error_from_server(
    code: object, message: object, data: Mapping[str, Any], status: int | None = None
) -> ServerRefusedError:
    """The exception for an error the server reported, by its wire code."""
    code_text = code if isinstance(code, str) and code else "server_error"
    message_text = message if isinstance(message, str) else "The server refused the request."
    cls = _BY_CODE.get(code_text, ServerRefusedError)
    extra = {k: v for k, v in data.items() if k not in {"code", "message", "type", "ref"}}
    return cls(message_text, code=code_text, status=status, **extra)


# --- the client's own failures ------------------------------------------------------------


class ConnectionLostError(ClientError):
    """The websocket closed (or could not be opened) before the reply arrived."""

    code = "connection_lost"


class ReplyTimeoutError(ClientError):
    """No reply arrived in time; the request may or may not have been carried out."""

    code = "timeout"


class SessionEndedError(ConnectionLostError):
    """The server ended the session (signed out, deactivated, or never signed in)."""

    code = "session_ended"


class ClientClosedError(ClientError):
    """The client was closed while the operation was waiting."""

    code = "closed"


class ProtocolError(ClientError):
    """The server's answer does not have the documented shape."""

    code = "protocol_error"


class ConversationRefusedError(ProtocolError):
    """The server listed a conversation that is not exactly this user and one other person."""

    code = "conversation_refused"


class KeysError(ClientError):
    """Key material is missing or does not verify: a wrong password, an envelope that does
    not open, or a key bundle that does not match the published identity."""

    code = "keys"


class MessageTooLargeError(ClientError):
    """The sealed message would not fit in one frame under the server's limit."""

    code = "message_too_large"


class StateFileError(ClientError):
    """The client's state file cannot be read or written; it is left as it was."""

    code = "state_file"
