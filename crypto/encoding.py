"""Transport encoding: base64url without padding (libsodium's ``URLSAFE_NO_PADDING``).

Every binary format of the protocol travels inside JSON in this encoding. Decoding is strict
so that each byte string has exactly one text form: a server or client comparing encoded
values, or using them as keys, never sees two spellings of the same bytes.
"""

from __future__ import annotations

import base64
import re

from ._fields import require_bytes
from .errors import FormatError

__all__ = ["b64decode", "b64encode"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALID = re.compile(r"[A-Za-z0-9_-]*")
# Bits of the last character that carry no data, by input length modulo 4.
_UNUSED_BITS_MASK = {2: 0x0F, 3: 0x03}


def b64encode(data: bytes) -> str:
    """Encode bytes as base64url (RFC 4648 section 5) without ``=`` padding.

    Raises :class:`FormatError` if ``data`` is not bytes-like.
    """
    raw = require_bytes(data, "The data to encode")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode unpadded base64url, strictly.

    Raises :class:`FormatError` for anything but the canonical encoding of some bytes: a
    non-string, ``=`` padding, whitespace or any character outside ``A-Z a-z 0-9 - _``
    (including ``+`` and ``/`` of standard base64), a length of ``4k+1`` characters, or
    non-zero unused bits in the last character. The empty string decodes to ``b""``.
    """
    if not isinstance(text, str):
        raise FormatError(f"Base64url input must be a str, not {type(text).__name__}")
    if not _VALID.fullmatch(text):
        position, char = next((i, c) for i, c in enumerate(text) if c not in _ALPHABET)
        if char == "=":
            raise FormatError(f"Base64url input must not be padded: '=' at position {position}")
        raise FormatError(
            f"Base64url input contains {char!r} at position {position}, which is not in "
            "the URL-safe alphabet (A-Z a-z 0-9 - _)"
        )
    remainder = len(text) % 4
    if remainder == 1:
        raise FormatError(
            f"Base64url input has an impossible length of {len(text)} characters (4k+1)"
        )
    if remainder and _ALPHABET.index(text[-1]) & _UNUSED_BITS_MASK[remainder]:
        raise FormatError(
            "Base64url input is not canonical: the unused bits of its last character are not zero"
        )
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
