"""The client's one exception hierarchy.

Every failure the client reports is a :class:`ClientError` carrying a ``code``. When the
server refused something, ``code`` is the server's wire code (``protocol.errors.ErrorCode``,
docs/protocol.md) and the exception is a :class:`ServerRefusedError`; the client's own
failures (a lost connection, keys that do not open, a malformed answer) have codes of their
own below. Callers act on ``code`` or on the class, never on the message text.

The server-side exceptions of ``protocol.errors`` (``ApiError`` and its subclasses) are not
used here: they are what a server raises to answer, not what a client reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from protocol.errors import ErrorCode
from protocol.to_client import ErrorFields

__all__ = [
    "AgreementRequiredError",
    "AttachmentUnreadableError",
    "BadCiphertextError",
    "ClientClosedError",
    "ConversationClosedError",
    "ClientError",
    "ConversationRefusedError",
    "ConnectionLostError",
    "ForbiddenError",
    "InvalidRequestError",
    "InvitationInvalidError",
    "KeysError",
    "MessageTooLargeError",
    "NotFoundError",
    "OverloadedError",
    "ProtocolError",
    "RateLimitedError",
    "ReplyTimeoutError",
    "SecondFactorInvalidError",
    "SecondFactorRequiredError",
    "ServerRefusedError",
    "SessionEndedError",
    "StaleEpochError",
    "StateFileError",
    "UnauthenticatedError",
    "UnavailableError",
    "VerifiedKeyChangedError",
    "error_from_server",
    "known_code",
    "refusal",
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

    ``status`` is the HTTP status, or ``None`` for a websocket error frame. A code this
    client does not know (from a newer server) gives this class itself, so that it is
    reported as a refusal rather than mistaken for a malformed answer and retried.
    """

    code = ErrorCode.SERVER_ERROR.value

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, **data: Any
    ) -> None:
        super().__init__(message, code=code, **data)
        self.status = status


class UnauthenticatedError(ServerRefusedError):
    """Not signed in, or the email or password is wrong."""

    code = ErrorCode.UNAUTHENTICATED.value


class ForbiddenError(ServerRefusedError):
    """The account's role may not do this."""

    code = ErrorCode.FORBIDDEN.value


class AgreementRequiredError(ForbiddenError):
    """The client has not accepted the practice's current messaging agreement, so the
    server takes nothing they send. Not resent by itself: the message stays in the outbox
    (``pending``) and goes once :meth:`ConfideClient.accept_agreement` records the
    acceptance. ``client_message_id`` names the message held, when one was."""

    code = ErrorCode.AGREEMENT_REQUIRED.value


class NotFoundError(ServerRefusedError):
    """No such conversation for this user (also the answer for someone else's)."""

    code = ErrorCode.NOT_FOUND.value


class InvitationInvalidError(ServerRefusedError):
    """The invitation is unknown, used or expired."""

    code = ErrorCode.INVITATION_INVALID.value


class ConversationClosedError(ServerRefusedError):
    """The conversation was discharged (read-only) or erased: nothing more is written to
    it. A message refused with it leaves the outbox; it is never sent again."""

    code = ErrorCode.CONVERSATION_CLOSED.value


class StaleEpochError(ServerRefusedError):
    """The message used an epoch older than the conversation's current one."""

    code = ErrorCode.STALE_EPOCH.value


class BadCiphertextError(ServerRefusedError):
    """The server rejected the sealed bytes; resending them cannot succeed."""

    code = ErrorCode.BAD_CIPHERTEXT.value


class RateLimitedError(ServerRefusedError):
    """Too many frames or sign-in attempts; ``retry_after`` is in seconds."""

    code = ErrorCode.RATE_LIMITED.value

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

    code = ErrorCode.OVERLOADED.value


class UnavailableError(ServerRefusedError):
    """The server's database could not be reached; nothing was stored."""

    code = ErrorCode.UNAVAILABLE.value


class SecondFactorInvalidError(ServerRefusedError):
    """The second factor was refused: a wrong, reused or expired code, or a used recovery
    code (the message says which)."""

    code = ErrorCode.SECOND_FACTOR_INVALID.value


_BY_CODE: Mapping[ErrorCode, type[ServerRefusedError]] = MappingProxyType(
    {
        ErrorCode.UNAUTHENTICATED: UnauthenticatedError,
        ErrorCode.FORBIDDEN: ForbiddenError,
        ErrorCode.AGREEMENT_REQUIRED: AgreementRequiredError,
        ErrorCode.NOT_FOUND: NotFoundError,
        ErrorCode.INVITATION_INVALID: InvitationInvalidError,
        ErrorCode.CONVERSATION_CLOSED: ConversationClosedError,
        ErrorCode.STALE_EPOCH: StaleEpochError,
        ErrorCode.BAD_CIPHERTEXT: BadCiphertextError,
        ErrorCode.RATE_LIMITED: RateLimitedError,
        ErrorCode.OVERLOADED: OverloadedError,
        ErrorCode.UNAVAILABLE: UnavailableError,
        ErrorCode.SECOND_FACTOR_INVALID: SecondFactorInvalidError,
    }
)
_NOT_DATA = frozenset({"code", "message", "type", "ref"})


def known_code(code: str) -> ErrorCode | None:
    """``code`` as one of the protocol's codes, or ``None`` for one newer than this client."""
    try:
        return ErrorCode(code)
    except ValueError:
        return None


def error_from_server(
    code: object, message: object, data: Mapping[str, Any], status: int | None = None
) -> ServerRefusedError:
    """The exception for an error the server reported, by its wire code; ``data`` holds
    the error's fields (those that are not its code, message, type or ref are kept)."""
    code_text = str(code) if isinstance(code, str) and code else ErrorCode.SERVER_ERROR.value
    message_text = message if isinstance(message, str) else "The server refused the request."
    known = known_code(code_text)
    cls = _BY_CODE.get(known, ServerRefusedError) if known is not None else ServerRefusedError
    extra = {k: v for k, v in data.items() if k not in _NOT_DATA}
    return cls(message_text, code=code_text, status=status, **extra)


def refusal(
    code: str, message: str, fields: ErrorFields, status: int | None = None
) -> ServerRefusedError:
    """The exception for an error frame or HTTP error body the protocol models read
    (``fields`` carries what the error says besides its code and message)."""
    data = fields.model_dump(include=set(ErrorFields.model_fields), exclude_none=True)
    return error_from_server(code, message, data, status)


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


class SecondFactorRequiredError(ClientError):
    """The account needs a second factor this call could not give: none was given, or
    its only factor is a passkey and no ``passkey`` was given (``second_factor_required``);
    or it is a therapist's or admin's account that has none yet and must set one up in the
    web portal (``second_factor_enrolment_required``)."""

    code = "second_factor_required"


class ClientClosedError(ClientError):
    """The client was closed while the operation was waiting."""

    code = "closed"


class ProtocolError(ClientError):
    """The server's answer does not have the documented shape."""

    code = "protocol_error"


class WeakParametersError(ProtocolError):
    """The server served Argon2id parameters cheaper than the client's floor (its own
    sign-up default) for an account: the password was not used, and nothing derived from
    it was sent. An account made by a client never has less, so this is a server that
    wants the password cheaper to guess; tell the practice."""

    code = "weak_kdf_parameters"


class ConversationRefusedError(ProtocolError):
    """The server listed a conversation that is not exactly this user and one other person."""

    code = "conversation_refused"


class InvalidRequestError(ClientError):
    """A value given to the client is outside what the protocol allows (an email without
    ``@``, a name with control characters, a page size over the limit); nothing was sent."""

    code = "invalid_request"


class KeysError(ClientError):
    """Key material is missing or does not verify: a wrong password, an envelope that does
    not open, or a key bundle that does not match the published identity."""

    code = "keys"


class VerifiedKeyChangedError(KeysError):
    """The peer's key differs from the one the person verified (crypto/SPEC.md, "Pins"):
    nothing is sealed or sent in the conversation until they compare the safety number
    again (``verify_peer``) or accept the new key (``accept_peer_key``)."""

    code = "verified_key_changed"


class InvitationKeyMismatchError(KeysError):
    """The therapist identity the server serves for an invitation is not the one whose
    fingerprint the invitation link carries: the server, or someone between, put another
    key in the therapist's place. Nothing was wrapped to it and no account was made."""

    code = "invitation_key_mismatch"


class AttachmentUnreadableError(ClientError):
    """A downloaded attachment did not open: its stream was altered (on the server, or on
    the way), cut short, or is not the one its message names (crypto/SPEC.md,
    "Attachments"). Nothing of it was kept: the temporary file is deleted, and no file was
    written under its name."""

    code = "attachment_unreadable"


class MessageTooLargeError(ClientError):
    """The sealed message would not fit in one frame under the server's limit."""

    code = "message_too_large"


class StateFileError(ClientError):
    """The client's state file cannot be read or written; it is left as it was."""

    code = "state_file"
