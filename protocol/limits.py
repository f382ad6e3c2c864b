"""The protocol's limits: those fixed by the protocol itself, and the names of those a
server sets and announces in its ``ready`` frame (docs/protocol.md, "Limits")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from protocol.common import MAX_NESTING, Strict

__all__ = [
    "ATTACHMENT_PART_BYTES",
    "MAX_BODY_BYTES",
    "MAX_CIPHERTEXT_CHARS",
    "MAX_ENVELOPES",
    "MAX_ENVELOPE_CHARS",
    "MAX_NESTING",
    "MAX_PINS_CHARS",
    "MAX_RECOVERY_ENVELOPES",
    "MAX_SYNC",
    "Limits",
]

# base64url of at most 1 MiB + 225 bytes of message overhead (crypto/SPEC.md, version 2:
# 1,398,402 characters).
MAX_CIPHERTEXT_CHARS = 1_400_000
# An envelope is at most 1,381 bytes (crypto/SPEC.md, "Version 3: wrapped with X-Wing"):
# 1,842 characters of base64url.
MAX_ENVELOPE_CHARS = 1_842
# A pin record (crypto/SPEC.md, "Pins": 85 bytes and 49 a pin) as base64url, within
# MAX_BODY_BYTES: 60,000 characters are 45,000 bytes, about 900 pins.
MAX_PINS_CHARS = 60_000
# Conversations in one ``sync`` frame.
MAX_SYNC = 500
# Envelopes in one ``rekey`` frame.
MAX_ENVELOPES = 16
# An HTTP request body.
MAX_BODY_BYTES = 64 * 1024
# A part of an attachment's stream (docs/protocol.md, "Attachments"): every part but the
# last is exactly this long, the last the rest. The one request body allowed past
# MAX_BODY_BYTES, and only on its own route.
ATTACHMENT_PART_BYTES = 1024 * 1024
# Envelopes in one request of an assisted recovery's confirmation (at most about 57 KB of
# JSON with version-3 envelopes, within MAX_BODY_BYTES); a longer history is sent in
# several requests.
MAX_RECOVERY_ENVELOPES = 30

Positive = Annotated[int, Field(ge=1)]


class Limits(Strict):
    """What one server allows each socket; each field's variable is in docs/protocol.md."""

    # Characters of one text frame (CONFIDE_MAX_FRAME_BYTES).
    max_frame_bytes: Positive
    # Frames a second, on average (CONFIDE_MESSAGE_RATE) ...
    message_rate: Positive
    # ... and at once (CONFIDE_MESSAGE_BURST).
    message_burst: Positive
    # Messages in one history or sync page (CONFIDE_HISTORY_PAGE).
    history_page: Positive
    # Live sockets of one user (CONFIDE_MAX_SOCKETS_PER_USER).
    max_sockets: Positive
