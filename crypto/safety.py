"""Safety numbers: a fingerprint of both identities, compared by the two people in person.

::

    fp(id)         = BLAKE2b-256("confide/v1/fingerprint" || sign_pk || enc_pk)   (unkeyed)
    digits(fp)     = for i in 0..5: int(fp[5i : 5i+5]) mod 100000, as 5 zero-padded digits
    safety_number  = the two 30-digit strings, sorted, concatenated (60 digits)
    qr_payload     = 0x01 || min(fp_a, fp_b) || max(fp_a, fp_b)                 (65 bytes)

Both sides compute the same number and payload, whichever of the two they are.

One identity alone has an identity number, for an assisted recovery (crypto/SPEC.md,
"Assisted recovery"), where the client's new browser knows no peer yet::

    identity_number = digits(fp)                                                (30 digits)
    identity_qr     = 0x01 || fp                                                (33 bytes)

An invitation link carries its therapist's fingerprint, so the client's new browser can
refuse a therapist identity the server substitutes (crypto/SPEC.md, "Invitation links")::

    fragment        = token || "." || b64url(fp(therapist))                  (token: 16..128
                                                                              base64url chars)
"""

from __future__ import annotations

import hmac
import re

from ._fields import check_version, require_bytes, require_length, require_type
from ._primitives import HASH_SIZE
from .encoding import b64decode, b64encode
from .errors import BindingError, FormatError
from .identity import PublicIdentity

__all__ = [
    "IDENTITY_NUMBER_DIGITS",
    "IDENTITY_QR_SIZE",
    "IDENTITY_QR_VERSION",
    "INVITATION_TOKEN_MAX",
    "INVITATION_TOKEN_MIN",
    "SAFETY_NUMBER_DIGITS",
    "SAFETY_QR_SIZE",
    "SAFETY_QR_VERSION",
    "check_invitation_therapist",
    "fingerprint",
    "format_identity_number",
    "format_safety_number",
    "identity_number",
    "identity_qr_payload",
    "invitation_fragment",
    "parse_invitation_fragment",
    "safety_number",
    "safety_qr_payload",
    "verify_identity_qr",
    "verify_safety_qr",
]

SAFETY_NUMBER_DIGITS = 60
SAFETY_QR_VERSION = 0x01
SAFETY_QR_SIZE = 1 + 2 * HASH_SIZE  # 65
IDENTITY_NUMBER_DIGITS = 30
IDENTITY_QR_VERSION = 0x01
IDENTITY_QR_SIZE = 1 + HASH_SIZE  # 33
INVITATION_TOKEN_MIN = 16
INVITATION_TOKEN_MAX = 128
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
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
    return _grouped(number, SAFETY_NUMBER_DIGITS, "safety number")


def _grouped(number: object, size: int, what: str) -> str:
    if not isinstance(number, str):
        raise FormatError(f"The {what} must be a str, not {type(number).__name__}")
    if len(number) != size or not (number.isascii() and number.isdigit()):
        raise FormatError(f"A {what} is exactly {size} digits")
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


def identity_number(identity: PublicIdentity) -> str:
    """The 30-digit number of one identity: the half a safety number takes from it.

    For an assisted recovery: the client's new browser shows it, their therapist's shows the
    number of the identity the server holds for the request, and the two compare them.
    """
    return _digits(fingerprint(identity))


def format_identity_number(number: str) -> str:
    """Group a 30-digit identity number into 6 groups of 5 digits separated by spaces.

    Raises :class:`FormatError` unless ``number`` is exactly 30 ASCII digits.
    """
    return _grouped(number, IDENTITY_NUMBER_DIGITS, "identity number")


def identity_qr_payload(identity: PublicIdentity) -> bytes:
    """The 33-byte QR code payload of one identity: 0x01 || its fingerprint."""
    return bytes([IDENTITY_QR_VERSION]) + fingerprint(identity)


def verify_identity_qr(payload: bytes, identity: PublicIdentity) -> None:
    """Check a scanned identity QR payload against the identity this device holds.

    Returns ``None`` on a match. Raises :class:`FormatError` for empty input,
    :class:`UnsupportedVersionError` for a version other than 0x01, :class:`FormatError` for
    a length other than 33 bytes (a safety code of two identities is 65), and
    :class:`BindingError` if the payload is another identity's (the request to confirm is
    not the one this person made).
    """
    data = require_bytes(payload, "The identity QR payload")
    check_version(data, IDENTITY_QR_VERSION, "identity QR payload")
    require_length(data, IDENTITY_QR_SIZE, "The identity QR payload")
    if not hmac.compare_digest(data, identity_qr_payload(identity)):
        raise BindingError(
            "The scanned code is not this identity's: the keys compared are not the same"
        )


def invitation_fragment(token: str, therapist: PublicIdentity) -> str:
    """The fragment of an invitation link: the server's token, ``.``, and the base64url
    fingerprint of the inviting therapist's identity, as the therapist's own client holds it.

    Raises :class:`FormatError` for a token that is not 16 to 128 base64url characters.
    """
    return f"{_token(token)}.{b64encode(fingerprint(therapist))}"


def parse_invitation_fragment(fragment: str) -> tuple[str, bytes]:
    """The token and the therapist's 32-byte fingerprint of an invitation link's fragment.

    Raises :class:`FormatError` for anything but ``token.fingerprint``: a fragment without
    the fingerprint (a link from before version 2, or cut short), a token that is not 16 to
    128 base64url characters, or a fingerprint that is not 32 bytes in base64url.
    """
    if not isinstance(fragment, str):
        raise FormatError(f"The invitation fragment must be a str, not {type(fragment).__name__}")
    token, dot, encoded = fragment.rpartition(".")
    if not dot:
        raise FormatError(
            "The invitation link has no fingerprint of the therapist's key after its token"
        )
    fp = b64decode(encoded)
    require_length(fp, HASH_SIZE, "The therapist's fingerprint in the invitation link")
    return _token(token), fp


def check_invitation_therapist(expected_fingerprint: bytes, therapist: PublicIdentity) -> None:
    """Check the therapist identity the server serves for an invitation against the
    fingerprint its link carries. Returns ``None`` on a match; raises :class:`BindingError`
    otherwise (the server, or someone who changed its answer, put another key in the
    therapist's place: nothing may be wrapped to it) and :class:`FormatError` for a
    fingerprint that is not 32 bytes."""
    expected = require_length(expected_fingerprint, HASH_SIZE, "The expected fingerprint")
    if not hmac.compare_digest(expected, fingerprint(therapist)):
        raise BindingError(
            "The therapist's key the server gave does not match the fingerprint in the "
            "invitation link"
        )


def _token(token: object) -> str:
    if not isinstance(token, str):
        raise FormatError(f"The invitation token must be a str, not {type(token).__name__}")
    if not INVITATION_TOKEN_MIN <= len(token) <= INVITATION_TOKEN_MAX or not _TOKEN.fullmatch(
        token
    ):
        raise FormatError(
            f"An invitation token is {INVITATION_TOKEN_MIN} to {INVITATION_TOKEN_MAX} "
            "base64url characters (A-Z, a-z, 0-9, - and _)"
        )
    return token
