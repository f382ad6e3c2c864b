/**
 * The protocol's codes and limits, generated from protocol/ by
 * `python -m protocol.schema`: do not edit (a test fails when it is stale).
 *
 * @module
 */

export const PROTOCOL_VERSION = 1;

/** Every error code, with its HTTP status. */
export const ERROR_STATUS = Object.freeze({
  "agreement_changed": 409,
  "agreement_required": 403,
  "attachment_incomplete": 409,
  "attachment_too_large": 413,
  "bad_ciphertext": 400,
  "bad_envelopes": 400,
  "bad_frame": 400,
  "bad_request": 400,
  "body_too_large": 413,
  "client_message_id_reused": 409,
  "conversation_closed": 409,
  "csrf_failed": 403,
  "digest_mismatch": 409,
  "email_taken": 409,
  "forbidden": 403,
  "frame_too_large": 413,
  "invitation_invalid": 410,
  "method_not_allowed": 405,
  "not_found": 404,
  "overloaded": 503,
  "part_conflict": 409,
  "pins_changed": 409,
  "quota_exceeded": 413,
  "range_not_satisfiable": 416,
  "rate_limited": 429,
  "recovery_challenge_invalid": 410,
  "recovery_invalid": 410,
  "recovery_proof_invalid": 403,
  "second_factor_enrolment_required": 403,
  "second_factor_expired": 410,
  "second_factor_invalid": 403,
  "server_error": 500,
  "setup_link_invalid": 410,
  "stale_epoch": 409,
  "unauthenticated": 401,
  "unavailable": 503,
  "unknown_type": 400
});

/** Codes after which the same bytes are sent again (nothing was stored). */
export const RESEND = new Set([
  "overloaded",
  "rate_limited",
  "server_error",
  "unavailable"
]);

/** Why the server closed a websocket. */
export const CLOSE = Object.freeze({
  "UNAUTHENTICATED": 4401,
  "SESSION_ENDED": 4001,
  "TOO_MANY_SOCKETS": 4008,
  "SECOND_FACTOR_ENROLMENT_REQUIRED": 4403,
  "FRAME_TOO_LARGE": 1009,
  "SERVICE_RESTART": 1012,
  "FRAME_TOO_LARGE_ON_DAPHNE": 4009,
  "SERVICE_RESTART_ON_DAPHNE": 4012
});

/** Closes after which reconnecting cannot help: sign in again. */
export const SESSION_GONE = new Set([
  4001,
  4401,
  4403
]);

/** Limits fixed by the protocol. */
export const LIMITS = Object.freeze({
  "ATTACHMENT_PART_BYTES": 1048576,
  "MAX_BODY_BYTES": 65536,
  "MAX_CIPHERTEXT_CHARS": 1400000,
  "MAX_ENVELOPES": 16,
  "MAX_RECOVERY_ENVELOPES": 30,
  "MAX_SYNC": 500
});
