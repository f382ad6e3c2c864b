"""Recovery keys: a random key shown once, which wraps a second copy of the identity.

::

    wrapping key = H(recovery, "confide/v1/recovery-wrap")
    check        = H(recovery, "confide/v1/recovery-check")[0:3]
    display      = base32(recovery(32) || check(3)) in 14 groups of 4, joined by "-"

base32 is RFC 4648 (``A-Z 2-7``), upper case, without padding: 35 bytes are exactly 56
characters. The 24-bit check lets a typing mistake be reported as a typo, before any
decryption is attempted, rather than as a wrong key.
"""

from __future__ import annotations

import base64
import hmac

from . import _labels, _random
from ._fields import require_length
from ._primitives import KEY_SIZE, h
from ._secret import Secret
from .bundle import WrappingKey
from .errors import FormatError

__all__ = ["RECOVERY_CHECK_SIZE", "RECOVERY_DISPLAY_LENGTH", "RecoveryKey"]

RECOVERY_CHECK_SIZE = 3
RECOVERY_DISPLAY_LENGTH = 56  # base32 characters, without separators
_GROUP = 4
_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


class RecoveryKey(Secret):
    """A 32-byte random recovery key.

    Warning: :meth:`display` returns the secret itself, for showing once to the user; never
    log it or send it anywhere. Raises :class:`FormatError` if not exactly 32 bytes.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = require_length(key, KEY_SIZE, "The recovery key")

    @classmethod
    def generate(cls) -> RecoveryKey:
        """A new recovery key of 32 random bytes."""
        return cls(_random.random_bytes(KEY_SIZE))

    def wrapping_key(self) -> WrappingKey:
        """The key that wraps the recovery copy of the identity (bundle kind 0x02)."""
        return WrappingKey(h(self._key, _labels.RECOVERY_WRAP))

    def display(self) -> str:
        """The form shown to the user: 56 base32 characters in 14 groups of 4, dash-joined."""
        text = _base32_text(self._key + _check(self._key))
        return "-".join(text[i : i + _GROUP] for i in range(0, len(text), _GROUP))

    @classmethod
    def from_display(cls, text: str) -> RecoveryKey:
        """Parse a recovery key as typed by the user.

        Accepts lower case and ignores dashes and whitespace. Raises :class:`FormatError`
        for a character outside ``A-Z 2-7``, a length other than 56 characters, or a check
        that does not match (the key was mistyped).
        """
        if not isinstance(text, str):
            raise FormatError(f"The recovery key must be a str, not {type(text).__name__}")
        characters = []
        for char in text:
            if char == "-" or char.isspace():
                continue
            # Only ASCII is upper-cased: "ß".upper() would turn one mistake into "SS".
            upper = char.upper() if char.isascii() else char
            if upper not in _BASE32_ALPHABET:
                raise FormatError(
                    f"The recovery key contains {char!r}, which is not one of its characters "
                    "(letters A-Z and digits 2-7)"
                )
            characters.append(upper)
        compact = "".join(characters)
        if len(compact) != RECOVERY_DISPLAY_LENGTH:
            raise FormatError(
                f"A recovery key has {RECOVERY_DISPLAY_LENGTH} letters and digits, "
                f"not {len(compact)}"
            )
        raw = base64.b32decode(compact)
        key, check = raw[:KEY_SIZE], raw[KEY_SIZE:]
        if not hmac.compare_digest(check, _check(key)):
            raise FormatError(
                "The recovery key checksum does not match: the key was probably mistyped"
            )
        return cls(key)

    def _secret_material(self) -> bytes:
        return self._key


def _check(key: bytes) -> bytes:
    return h(key, _labels.RECOVERY_CHECK)[:RECOVERY_CHECK_SIZE]


def _base32_text(data: bytes) -> str:
    """RFC 4648 base32, upper case, ``=`` padding removed."""
    return base64.b32encode(data).decode("ascii").rstrip("=")
