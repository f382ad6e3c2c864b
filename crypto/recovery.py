"""Recovery keys: a random key shown once, which wraps a second copy of the identity.

::

    wrapping key = H(recovery, "confide/v1/recovery-wrap")
    check        = H(recovery, "confide/v1/recovery-check")[0:3]
    display      = base32(recovery(32) || check(3)) in 14 groups of 4, joined by "-"

base32 is RFC 4648 (``A-Z 2-7``), upper case, without padding: 35 bytes are exactly 56
characters. The 24-bit check lets a typing mistake be reported as a typo, before any
decryption is attempted, rather than as a wrong key.

A forgotten password is replaced with the recovery key (crypto/SPEC.md, "Recovery"): the
client opens the recovery copy, makes new password material, and proves to the server
that the holder of the identity asked for exactly that material::

    statement = "confide/v1/recovery-proof" || 0x01 || challenge(32) || u32(len(e)) || e
                || salt(16) || u32(opslimit) || u32(memlimit) || BLAKE2b-256(auth_secret)
                || key_bundle(106)
    e         = UTF-8(email)
    proof     = Ed25519-Sign(sign_sk, statement)
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field

from . import _labels, _random
from ._fields import require_bytes, require_length, require_type, u32
from ._primitives import KEY_SIZE, SIGNATURE_SIZE, h, h_unkeyed, verify_detached
from ._secret import Secret
from .bundle import BundleKind, WrappingKey, parse_bundle
from .errors import FormatError
from .identity import IdentityKeyPair, PublicIdentity
from .kdf import SALT_SIZE, KdfParams

__all__ = [
    "RECOVERY_CHALLENGE_SIZE",
    "RECOVERY_CHECK_SIZE",
    "RECOVERY_DISPLAY_LENGTH",
    "RECOVERY_PROOF_VERSION",
    "RecoveryClaim",
    "SKIPPED_IN_RECOVERY_KEY",
    "RecoveryKey",
    "recovery_statement",
    "sign_recovery",
    "verify_recovery",
]

RECOVERY_CHECK_SIZE = 3
RECOVERY_DISPLAY_LENGTH = 56  # base32 characters, without separators
RECOVERY_CHALLENGE_SIZE = 32
RECOVERY_PROOF_VERSION = 0x01
# An email is at most 254 characters (RFC 5321), so at most 1016 bytes of UTF-8.
_MAX_EMAIL_BYTES = 1016
_GROUP = 4
_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

# What a typed recovery key may hold besides its own characters, skipped wherever it occurs
# (crypto/SPEC.md, "Recovery key"); an explicit list, so that every implementation skips
# exactly the same characters. Whitespace: the 25 code points of Unicode's White_Space
# property and the information separators U+001C..U+001F, 29 in all (those for which
# Python's str.isspace() is true today; listed, so a new Unicode version changes nothing).
_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# Dashes: phones and word processors turn a typed "-" into these, and a copied key brings
# soft hyphens with it.
_DASHES = frozenset("-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
# Invisible characters a copy from a document or an email carries.
_INVISIBLE = frozenset("\u200b\u2060\ufeff")
SKIPPED_IN_RECOVERY_KEY: frozenset[str] = _WHITESPACE | _DASHES | _INVISIBLE


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

        Accepts lower case and skips whitespace, dashes and invisible characters
        (``SKIPPED_IN_RECOVERY_KEY``, an explicit list). Raises :class:`FormatError`
        for a character outside ``A-Z 2-7``, a length other than 56 characters, or a check
        that does not match (the key was mistyped).
        """
        if not isinstance(text, str):
            raise FormatError(f"The recovery key must be a str, not {type(text).__name__}")
        characters = []
        for char in text:
            if char in SKIPPED_IN_RECOVERY_KEY:
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


@dataclass(frozen=True)
class RecoveryClaim:
    """What a client recovering an account asks the server to store: new password
    material, for the account of ``email``, answering the server's ``challenge``.

    ``auth_secret`` is the new authentication secret (32 bytes), kept out of ``repr``;
    ``key_bundle`` is the identity wrapped under the new password (kind 0x01).
    """

    challenge: bytes
    email: str
    salt: bytes
    params: KdfParams
    auth_secret: bytes = field(repr=False)
    key_bundle: bytes


def recovery_statement(claim: RecoveryClaim) -> bytes:
    """The bytes a recovery proof signs (crypto/SPEC.md, "Recovery").

    The authentication secret enters only as its BLAKE2b-256, so the statement can be
    shown or logged without being a credential. Raises :class:`FormatError` for a
    challenge other than 32 bytes, an empty email or one that is not valid Unicode text
    or longer than 1016 bytes of UTF-8, a salt other than 16 bytes, ``params`` that are
    not a :class:`KdfParams`, an auth secret other than 32 bytes, or a key bundle that is
    not a well-formed password bundle.
    """
    claim = require_type(claim, RecoveryClaim, "The recovery claim")
    challenge = require_length(claim.challenge, RECOVERY_CHALLENGE_SIZE, "The recovery challenge")
    email = _email_bytes(claim.email)
    salt = require_length(claim.salt, SALT_SIZE, "The salt")
    params = require_type(claim.params, KdfParams, "The KDF parameters")
    auth_secret = require_length(claim.auth_secret, KEY_SIZE, "The auth secret")
    key_bundle = require_bytes(claim.key_bundle, "The key bundle")
    if parse_bundle(key_bundle) != BundleKind.PASSWORD:
        raise FormatError("The key bundle of a recovery must be a password bundle (kind 0x01)")
    return b"".join(
        (
            _labels.RECOVERY_PROOF,
            bytes([RECOVERY_PROOF_VERSION]),
            challenge,
            u32(len(email)),
            email,
            salt,
            u32(params.opslimit),
            u32(params.memlimit),
            h_unkeyed(auth_secret),
            key_bundle,
        )
    )


def sign_recovery(identity: IdentityKeyPair, claim: RecoveryClaim) -> bytes:
    """The 64-byte Ed25519 proof, by ``identity``, of :func:`recovery_statement`.

    Only the holder of the private identity (here: whoever opened the recovery copy with
    the recovery key) can make it. Raises :class:`FormatError` as
    :func:`recovery_statement` does.
    """
    identity = require_type(identity, IdentityKeyPair, "The identity")
    return identity._sign(recovery_statement(claim))


def verify_recovery(identity: PublicIdentity, claim: RecoveryClaim, proof: bytes) -> None:
    """Check a recovery proof against the account's published identity (for the server).

    Raises :class:`FormatError` as :func:`recovery_statement` does or for a proof other
    than 64 bytes, then :class:`SignatureError` if the proof does not verify under
    ``identity``'s signing key: made by another identity, or for other material.
    """
    identity = require_type(identity, PublicIdentity, "The identity")
    statement = recovery_statement(claim)
    proof = require_length(proof, SIGNATURE_SIZE, "The recovery proof")
    verify_detached(
        identity.sign_key,
        statement,
        proof,
        "The recovery proof does not verify: it was not made by this account's identity, "
        "or not for this material",
    )


def _email_bytes(email: object) -> bytes:
    if not isinstance(email, str):
        raise FormatError(f"The email must be a str, not {type(email).__name__}")
    if not email:
        raise FormatError("The email must not be empty")
    try:
        encoded = email.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("The email is not valid Unicode text") from None
    if len(encoded) > _MAX_EMAIL_BYTES:
        raise FormatError(f"The email must be at most {_MAX_EMAIL_BYTES} bytes of UTF-8")
    return encoded
