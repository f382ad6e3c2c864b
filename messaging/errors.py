"""The messaging errors, each with the wire code documented in docs/protocol.md.

A service raises one of these; the consumer turns it into an ``error`` frame
and the HTTP views into a JSON body with the listed status. Nothing else
reaches the client: an unexpected exception becomes ``server_error``.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    FRAME_TOO_LARGE = "frame_too_large"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONVERSATION_CLOSED = "conversation_closed"
    STALE_EPOCH = "stale_epoch"
    BAD_CIPHERTEXT = "bad_ciphertext"
    ID_REUSED = "client_message_id_reused"
    BAD_ENVELOPES = "bad_envelopes"
    BAD_REQUEST = "bad_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNAUTHENTICATED = "unauthenticated"
    INVITATION_INVALID = "invitation_invalid"
    EMAIL_TAKEN = "email_taken"
    UNAVAILABLE = "unavailable"
    OVERLOADED = "overloaded"
    SERVER_ERROR = "server_error"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_FRAME: 400,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.BAD_CIPHERTEXT: 400,
    ErrorCode.BAD_ENVELOPES: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVITATION_INVALID: 410,
    ErrorCode.EMAIL_TAKEN: 409,
    ErrorCode.ID_REUSED: 409,
    ErrorCode.STALE_EPOCH: 409,
    ErrorCode.CONVERSATION_CLOSED: 409,
    ErrorCode.FRAME_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UNKNOWN_TYPE: 400,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.OVERLOADED: 503,
    ErrorCode.SERVER_ERROR: 500,
}


class MessagingError(Exception):
    """Base of every error the messaging app reports to a client."""

    code: ErrorCode = ErrorCode.SERVER_ERROR

    def __init__(self, message: str, *, code: ErrorCode | None = None, **data: object) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.data = data

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def to_json(self) -> dict[str, object]:
        return {"code": str(self.code), "message": self.message, **self.data}


class BadRequestError(MessagingError):
    code = ErrorCode.BAD_REQUEST


class NotFoundError(MessagingError):
    """Also used where the truth is "forbidden", so that ids do not reveal what exists."""

    code = ErrorCode.NOT_FOUND


class ForbiddenError(MessagingError):
    code = ErrorCode.FORBIDDEN


class ConversationClosedError(MessagingError):
    code = ErrorCode.CONVERSATION_CLOSED


class StaleEpochError(MessagingError):
    code = ErrorCode.STALE_EPOCH


class BadCiphertextError(MessagingError):
    code = ErrorCode.BAD_CIPHERTEXT


class ClientMessageIdReusedError(MessagingError):
    code = ErrorCode.ID_REUSED


class BadEnvelopesError(MessagingError):
    code = ErrorCode.BAD_ENVELOPES


class RateLimitedError(MessagingError):
    code = ErrorCode.RATE_LIMITED


class InvitationInvalidError(MessagingError):
    code = ErrorCode.INVITATION_INVALID


class EmailTakenError(MessagingError):
    code = ErrorCode.EMAIL_TAKEN


class UnauthenticatedError(MessagingError):
    code = ErrorCode.UNAUTHENTICATED


class UnavailableError(MessagingError):
    """The database could not be reached: nothing was stored; the client should resend."""

    code = ErrorCode.UNAVAILABLE


class OverloadedError(MessagingError):
    """More sends wait for the database than the server holds: nothing was stored; the
    client resends after ``retry_after_ms``."""

    code = ErrorCode.OVERLOADED
