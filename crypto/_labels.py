"""Domain-separation labels.

Every label is ASCII, has no terminator and starts with ``confide/v1/``. Each one is used for
exactly one purpose, so a value computed for one purpose is never valid for another.
"""

from __future__ import annotations

__all__ = ["ALL_LABELS"]

IDENTITY = b"confide/v1/identity"
AUTH = b"confide/v1/auth"
KEY_WRAP = b"confide/v1/key-wrap"
KEY_BUNDLE = b"confide/v1/key-bundle"
RECOVERY_WRAP = b"confide/v1/recovery-wrap"
RECOVERY_CHECK = b"confide/v1/recovery-check"
ENVELOPE = b"confide/v1/envelope"
ENVELOPE_SIG = b"confide/v1/envelope-sig"
MESSAGE_KEY = b"confide/v1/message-key"
MESSAGE = b"confide/v1/message"
MESSAGE_SIG = b"confide/v1/message-sig"
FINGERPRINT = b"confide/v1/fingerprint"
RECOVERY_PROOF = b"confide/v1/recovery-proof"
IDENTITY_SUCCESSION = b"confide/v1/identity-succession"
MESSAGE_REFERENCE = b"confide/v1/message-reference"
PINS = b"confide/v1/pins"
KEY_COMMITMENT = b"confide/v1/key-commitment"
XWING_SEED = b"confide/v1/xwing-seed"
ENVELOPE_XWING = b"confide/v1/envelope-xwing"
DISCLOSURE_KEY = b"confide/v1/disclosure-key"
DISCLOSURE = b"confide/v1/disclosure"
DISCLOSURE_SIG = b"confide/v1/disclosure-sig"
EXPORT = b"confide/v1/export"
EXPORT_MESSAGE = b"confide/v1/export-message"
ATTACHMENT = b"confide/v1/attachment"
ATTACHMENT_DIGEST = b"confide/v1/attachment-digest"

ALL_LABELS: tuple[bytes, ...] = (
    IDENTITY,
    AUTH,
    KEY_WRAP,
    KEY_BUNDLE,
    RECOVERY_WRAP,
    RECOVERY_CHECK,
    ENVELOPE,
    ENVELOPE_SIG,
    MESSAGE_KEY,
    MESSAGE,
    MESSAGE_SIG,
    FINGERPRINT,
    RECOVERY_PROOF,
    IDENTITY_SUCCESSION,
    MESSAGE_REFERENCE,
    PINS,
    KEY_COMMITMENT,
    XWING_SEED,
    ENVELOPE_XWING,
    DISCLOSURE_KEY,
    DISCLOSURE,
    DISCLOSURE_SIG,
    EXPORT,
    EXPORT_MESSAGE,
    ATTACHMENT,
    ATTACHMENT_DIGEST,
)
