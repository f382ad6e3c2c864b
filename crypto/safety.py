"""Safety numbers: a fingerprint of both identities, compared by the two people in person.

::

    fp(id)         = BLAKE2b-256("confide/v1/fingerprint" || sign_pk || enc_pk)   (unkeyed)
    digits(fp)     = for i in 0..5: int(fp[5i : 5i+5]) mod 100000, as 5 zero-padded digits
    safety_number  = the two 30-digit strings, sorted, concatenated (60 digits)
    qr_payload     = 0x01 || min(fp_a, fp_b) || max(fp_a, fp_b)                 (65 bytes)

Both sides compute the same number and payload, whichever of the two they are.
"""

from __future__ import annotations

import hmac

from ._fields import check_version, require_bytes, require_length, require_type
from ._primitives import HASH_SIZE
from .errors import BindingError, FormatError
from .identity import PublicIdentity

__all__ = [
    "SAFETY_NUMBER_DIGITS",
    "SAFETY_QR_SIZE",
    "SAFETY_QR_VERSION",
    "fingerprint",
    "format_safety_number",
    "safety_number",
    "safety_qr_payload",
    "verify_safety_qr",
]

SAFETY_NUMBER_DIGITS = 60
SAFETY_QR_VERSION = 0x01
SAFETY_QR_SIZE = 1 + 2 * HASH_SIZE  # 65
_CHUNKS = 6
_CHUNK_BYTES = 5
_GROUP = 5


def fingerprint(identity: PublicIdentity) -> bytes:
    """The identity's 32-byte fingerprint (same as ``identity.fingerprint()``)."""
    return require_type(identity, PublicIdentity, "The identity").fingerprint()


def _digits(fp: bytes) -> str:
    return "".join(
        f"{int.from_bytes(fp[i * _CHUNK_BYTES : (i + 1) * _CHUNK_BYTES], 'big') % 100000:05d}"
        for i in range(_CHUNKS)
    )


def safety_number(a: PublicIdentity, b: PublicIdentity) -> str:
    """The 60-digit safety number of two identities; symmetric in ``a`` and ``b``."""
    halves = sorted((_digits(fingerprint(a)), _digits(fingerprint(b))))
    return halves[0] + halves[1]


def format_safety_number(number: str) -> str:
    """Group a 60-digit safety number into 12 groups of 5 digits separated by spaces.

    Raises :class:`FormatError` unless ``number`` is exactly 60 ASCII digits.
    """
    if not isinstance(number, str):
        raise FormatError(f"The safety number must be a str, not {type(number).__name__}")
    if len(number) != SAFETY_NUMBER_DIGITS or not (number.isascii() and number.isdigit()):
        raise FormatError(f"A safety number is exactly {SAFETY_NUMBER_DIGITS} digits")
    return " ".join(number[i : i + _GROUP] for i in range(0, len(number), _GROUP))


def safety_qr_payload(a: PublicIdentity, b: PublicIdentity) -> bytes:
    """The 65-byte QR code payload of two identities; symmetric in ``a`` and ``b``."""
    low, high = sorted((fingerprint(a), fingerprint(b)))
    return bytes([SAFETY_QR_VERSION]) + low + high


def verify_safety_qr(payload: bytes, a: PublicIdentity, b: PublicIdentity) -> None:
    """Check a scanned QR payload against the two identities this device holds.

    Returns ``None`` on a match. Raises :class:`UnsupportedVersionError` for a version other
    than 0x01, :class:`FormatError` for a length other than 65 bytes, and
    :class:`BindingError` if the payload is for other keys (a key was substituted or
    changed: the two people must not trust the conversation until this is resolved).
    """
    data = require_bytes(payload, "The safety QR payload")
    check_version(data, SAFETY_QR_VERSION, "safety QR payload")
    require_length(data, SAFETY_QR_SIZE, "The safety QR payload")
    if not hmac.compare_digest(data, safety_qr_payload(a, b)):
        raise BindingError(
            "The scanned safety code does not match these two identities: a key has changed "
            "or was substituted"
        )
