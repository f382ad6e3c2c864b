"""Every error code of the protocol, what a client may do after it, the websocket close
codes, and the exceptions a server raises to answer with a code.

One table, :data:`ERRORS`, gives each code its HTTP status and whether a client may send
the same bytes again (docs/protocol.md, "Errors"); the Python client, the browser (through
the generated ``protocol.js``) and the documentation all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import TypedDict, Unpack

__all__ = [
    "ERRORS",
    "ON_DAPHNE",
    "RESEND",
    "SESSION_GONE",
    "AgreementChangedError",
    "AgreementRequiredError",
    "ApiError",
    "AttachmentIncompleteError",
    "AttachmentTooLargeError",
    "BadCiphertextError",
    "BadEnvelopesError",
    "BadRequestError",
    "BodyTooLargeError",
    "ClientMessageIdReusedError",
    "CloseCode",
    "ConversationClosedError",
    "CsrfFailedError",
    "DigestMismatchError",
    "EmailTakenError",
    "ErrorCode",
    "ErrorData",
    "ErrorSpec",
    "ForbiddenError",
    "FrameError",
    "InvitationInvalidError",
    "MethodNotAllowedError",
    "NotFoundError",
    "OverloadedError",
    "PartConflictError",
    "PinsChangedError",
    "QuotaExceededError",
    "RangeNotSatisfiableError",
    "RateLimitedError",
    "RecoveryChallengeInvalidError",
    "RecoveryInvalidError",
    "RecoveryProofInvalidError",
    "SecondFactorEnrolmentRequiredError",
    "SecondFactorExpiredError",
    "SecondFactorInvalidError",
    "SetupLinkInvalidError",
    "StaleEpochError",
    "UnauthenticatedError",
    "UnavailableError",
]


class ErrorCode(StrEnum):
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    FRAME_TOO_LARGE = "frame_too_large"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    AGREEMENT_REQUIRED = "agreement_required"
    CONVERSATION_CLOSED = "conversation_closed"
    STALE_EPOCH = "stale_epoch"
    BAD_CIPHERTEXT = "bad_ciphertext"
    ID_REUSED = "client_message_id_reused"
    BAD_ENVELOPES = "bad_envelopes"
    BAD_REQUEST = "bad_request"
    BODY_TOO_LARGE = "body_too_large"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNAUTHENTICATED = "unauthenticated"
    INVITATION_INVALID = "invitation_invalid"
    EMAIL_TAKEN = "email_taken"
    SETUP_LINK_INVALID = "setup_link_invalid"
    AGREEMENT_CHANGED = "agreement_changed"
    PINS_CHANGED = "pins_changed"
    RECOVERY_CHALLENGE_INVALID = "recovery_challenge_invalid"
    RECOVERY_PROOF_INVALID = "recovery_proof_invalid"
    RECOVERY_INVALID = "recovery_invalid"
    SECOND_FACTOR_INVALID = "second_factor_invalid"
    SECOND_FACTOR_EXPIRED = "second_factor_expired"
    SECOND_FACTOR_ENROLMENT_REQUIRED = "second_factor_enrolment_required"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    QUOTA_EXCEEDED = "quota_exceeded"
    PART_CONFLICT = "part_conflict"
    ATTACHMENT_INCOMPLETE = "attachment_incomplete"
    DIGEST_MISMATCH = "digest_mismatch"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    UNAVAILABLE = "unavailable"
    OVERLOADED = "overloaded"
    SERVER_ERROR = "server_error"


@dataclass(frozen=True)
class ErrorSpec:
    """``status``: the HTTP status of the code. ``resend``: nothing was stored and the
    same bytes may be sent again, after ``retry_after_ms`` when the error carries it and
    after a growing pause otherwise."""

    status: int
    resend: bool = False


ERRORS: MappingProxyType[ErrorCode, ErrorSpec] = MappingProxyType(
    {
        ErrorCode.BAD_FRAME: ErrorSpec(400),
        ErrorCode.UNKNOWN_TYPE: ErrorSpec(400),
        ErrorCode.BAD_REQUEST: ErrorSpec(400),
        ErrorCode.BAD_CIPHERTEXT: ErrorSpec(400),
        ErrorCode.BAD_ENVELOPES: ErrorSpec(400),
        ErrorCode.UNAUTHENTICATED: ErrorSpec(401),
        ErrorCode.FORBIDDEN: ErrorSpec(403),
        ErrorCode.CSRF_FAILED: ErrorSpec(403),
        ErrorCode.AGREEMENT_REQUIRED: ErrorSpec(403),
        ErrorCode.RECOVERY_PROOF_INVALID: ErrorSpec(403),
        ErrorCode.SECOND_FACTOR_INVALID: ErrorSpec(403),
        ErrorCode.SECOND_FACTOR_ENROLMENT_REQUIRED: ErrorSpec(403),
        ErrorCode.NOT_FOUND: ErrorSpec(404),
        ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(405),
        ErrorCode.ID_REUSED: ErrorSpec(409),
        ErrorCode.STALE_EPOCH: ErrorSpec(409),
        ErrorCode.CONVERSATION_CLOSED: ErrorSpec(409),
        ErrorCode.EMAIL_TAKEN: ErrorSpec(409),
        ErrorCode.AGREEMENT_CHANGED: ErrorSpec(409),
        ErrorCode.PINS_CHANGED: ErrorSpec(409),
        ErrorCode.PART_CONFLICT: ErrorSpec(409),
        ErrorCode.ATTACHMENT_INCOMPLETE: ErrorSpec(409),
        ErrorCode.DIGEST_MISMATCH: ErrorSpec(409),
        ErrorCode.INVITATION_INVALID: ErrorSpec(410),
        ErrorCode.SETUP_LINK_INVALID: ErrorSpec(410),
        ErrorCode.RECOVERY_CHALLENGE_INVALID: ErrorSpec(410),
        ErrorCode.RECOVERY_INVALID: ErrorSpec(410),
        ErrorCode.SECOND_FACTOR_EXPIRED: ErrorSpec(410),
        ErrorCode.FRAME_TOO_LARGE: ErrorSpec(413),
        ErrorCode.BODY_TOO_LARGE: ErrorSpec(413),
        ErrorCode.ATTACHMENT_TOO_LARGE: ErrorSpec(413),
        ErrorCode.QUOTA_EXCEEDED: ErrorSpec(413),
        ErrorCode.RANGE_NOT_SATISFIABLE: ErrorSpec(416),
        ErrorCode.RATE_LIMITED: ErrorSpec(429, resend=True),
        ErrorCode.SERVER_ERROR: ErrorSpec(500, resend=True),
        ErrorCode.UNAVAILABLE: ErrorSpec(503, resend=True),
        ErrorCode.OVERLOADED: ErrorSpec(503, resend=True),
    }
)

# The codes after which a client sends the same bytes again (same client message id).
RESEND: frozenset[ErrorCode] = frozenset(code for code, spec in ERRORS.items() if spec.resend)


class CloseCode(IntEnum):
    """Why the server closed a websocket."""

    # Not signed in (sent right after the handshake).
    UNAUTHENTICATED = 4401
    # The session ended: signed out, deactivated, or the authentication secret changed.
    SESSION_ENDED = 4001
    # The user already has the most live sockets allowed.
    TOO_MANY_SOCKETS = 4008
    # A therapist or admin without a second factor: enrol one first (over HTTP).
    SECOND_FACTOR_ENROLMENT_REQUIRED = 4403
    # A frame exceeded max_frame_bytes.
    FRAME_TOO_LARGE = 1009
    # The server may have dropped events for this socket: reconnect and sync.
    SERVICE_RESTART = 1012
    # The same two from a server running on Daphne, whose websocket library sends no code
    # but 1000 and 3000-4999 (4000-4999 being the applications' own, RFC 6455).
    FRAME_TOO_LARGE_ON_DAPHNE = 4009
    SERVICE_RESTART_ON_DAPHNE = 4012


# What a server on Daphne closes with in place of each code its websocket library refuses.
ON_DAPHNE: dict[CloseCode, CloseCode] = {
    CloseCode.FRAME_TOO_LARGE: CloseCode.FRAME_TOO_LARGE_ON_DAPHNE,
    CloseCode.SERVICE_RESTART: CloseCode.SERVICE_RESTART_ON_DAPHNE,
}


# Closes after which reconnecting cannot help: sign in again.
SESSION_GONE: frozenset[CloseCode] = frozenset(
    {
        CloseCode.UNAUTHENTICATED,
        CloseCode.SESSION_ENDED,
        CloseCode.SECOND_FACTOR_ENROLMENT_REQUIRED,
    }
)


class ErrorData(TypedDict, total=False):
    """The fields an error may carry besides its code and message (``ErrorFields`` of
    ``protocol.to_client`` is their wire form)."""

    # rate_limited (frames) and overloaded: wait this long, then resend.
    retry_after_ms: int
    # rate_limited (sign-in): wait this long.
    retry_after_s: int
    # stale_epoch: the conversation's current epoch.
    current_epoch: int
    # email_taken: whether the invitation can still be used.
    invitation_used_up: bool
    # attachment_too_large: the largest file (bytes of plaintext) the server takes.
    max_bytes: int
    # quota_exceeded: the bytes of stream the practice may still store.
    remaining_bytes: int
    # attachment_incomplete: the parts still to send.
    missing_parts: list[int]


class ApiError(Exception):
    """Base of the errors a server answers with. ``message`` is for people; clients act
    on ``code``."""

    code: ErrorCode = ErrorCode.SERVER_ERROR

    def __init__(
        self, message: str, *, code: ErrorCode | None = None, **data: Unpack[ErrorData]
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.data = data

    @property
    def http_status(self) -> int:
        return ERRORS[self.code].status


class FrameError(ApiError):
    """A websocket frame that is not one the protocol defines."""

    code = ErrorCode.BAD_FRAME


class BadRequestError(ApiError):
    code = ErrorCode.BAD_REQUEST


class BodyTooLargeError(ApiError):
    """A request body over ``protocol.limits.MAX_BODY_BYTES``, refused before it is read."""

    code = ErrorCode.BODY_TOO_LARGE


class MethodNotAllowedError(ApiError):
    code = ErrorCode.METHOD_NOT_ALLOWED


class NotFoundError(ApiError):
    """Also used where the truth is "forbidden", so that ids do not reveal what exists."""

    code = ErrorCode.NOT_FOUND


class ForbiddenError(ApiError):
    code = ErrorCode.FORBIDDEN


class AgreementRequiredError(ApiError):
    """A client has not accepted the practice's current messaging agreement: nothing they
    send is taken until they do (``GET /api/agreement``, then ``POST`` its version)."""

    code = ErrorCode.AGREEMENT_REQUIRED


class CsrfFailedError(ApiError):
    """A POST without the CSRF token of its session (``GET /api/csrf``, then send it)."""

    code = ErrorCode.CSRF_FAILED


class ConversationClosedError(ApiError):
    code = ErrorCode.CONVERSATION_CLOSED


class StaleEpochError(ApiError):
    code = ErrorCode.STALE_EPOCH


class BadCiphertextError(ApiError):
    code = ErrorCode.BAD_CIPHERTEXT


class ClientMessageIdReusedError(ApiError):
    code = ErrorCode.ID_REUSED


class BadEnvelopesError(ApiError):
    code = ErrorCode.BAD_ENVELOPES


class RateLimitedError(ApiError):
    code = ErrorCode.RATE_LIMITED


class InvitationInvalidError(ApiError):
    code = ErrorCode.INVITATION_INVALID


class EmailTakenError(ApiError):
    code = ErrorCode.EMAIL_TAKEN


class SetupLinkInvalidError(ApiError):
    """A staff setup link that is unknown, used, expired or revoked (one answer for all)."""

    code = ErrorCode.SETUP_LINK_INVALID


class AgreementChangedError(ApiError):
    """A new agreement version written on top of one that is no longer current."""

    code = ErrorCode.AGREEMENT_CHANGED


class PinsChangedError(ApiError):
    """A pin record written on top of one that is no longer the newest (another client of
    the person wrote meanwhile): nothing was kept; read the record, merge, write again."""

    code = ErrorCode.PINS_CHANGED


class RecoveryChallengeInvalidError(ApiError):
    """A password recovery's challenge that is unknown, expired, already used or asked for
    another email: nothing was changed; start again with ``recover/begin``."""

    code = ErrorCode.RECOVERY_CHALLENGE_INVALID


class RecoveryProofInvalidError(ApiError):
    """A password recovery whose proof does not verify under the account's identity (the
    recovery key did not open this account's keys): nothing was changed."""

    code = ErrorCode.RECOVERY_PROOF_INVALID


class RecoveryInvalidError(ApiError):
    """An assisted recovery that is no longer pending (confirmed, declined, replaced by a
    newer request, or expired; the message says which): nothing was changed."""

    code = ErrorCode.RECOVERY_INVALID


class SecondFactorInvalidError(ApiError):
    """A second factor was refused: a wrong, reused or expired code, a used recovery code,
    or a passkey assertion that does not verify (the message says which and what to do)."""

    code = ErrorCode.SECOND_FACTOR_INVALID


class SecondFactorExpiredError(ApiError):
    """The sign-in waiting for its second factor, or the enrolment being confirmed, is no
    longer there (it expired, was used, or was never begun): begin again."""

    code = ErrorCode.SECOND_FACTOR_EXPIRED


class SecondFactorEnrolmentRequiredError(ApiError):
    """A therapist or admin without a second factor: nothing but enrolling one (and
    ``/api/me``, signing out) is answered until they have one."""

    code = ErrorCode.SECOND_FACTOR_ENROLMENT_REQUIRED


class AttachmentTooLargeError(ApiError):
    """A file over the server's limit (``max_bytes``): nothing was stored."""

    code = ErrorCode.ATTACHMENT_TOO_LARGE


class QuotaExceededError(ApiError):
    """The practice's attachments would pass its quota (``remaining_bytes`` are left):
    nothing was stored."""

    code = ErrorCode.QUOTA_EXCEEDED


class PartConflictError(ApiError):
    """A part of an upload sent again with other bytes than those stored: the stored part
    is kept, and the upload cannot be finished with these."""

    code = ErrorCode.PART_CONFLICT


class AttachmentIncompleteError(ApiError):
    """An upload that lacks parts (``missing_parts``) or was not completed yet."""

    code = ErrorCode.ATTACHMENT_INCOMPLETE


class DigestMismatchError(ApiError):
    """The stored parts make a stream of another digest than the one the client sent: the
    upload stays incomplete."""

    code = ErrorCode.DIGEST_MISMATCH


class RangeNotSatisfiableError(ApiError):
    """A ``Range`` that begins at or past the end of the stream."""

    code = ErrorCode.RANGE_NOT_SATISFIABLE


class UnauthenticatedError(ApiError):
    code = ErrorCode.UNAUTHENTICATED


class UnavailableError(ApiError):
    """The database could not be reached: nothing was stored; the client should resend."""

    code = ErrorCode.UNAVAILABLE


class OverloadedError(ApiError):
    """The server is past what it can take: nothing was stored; the client resends after
    ``retry_after_ms``."""

    code = ErrorCode.OVERLOADED
