"""Key bundles: the private identity wrapped under a password- or recovery-derived key.

The server stores the bundles, so that any browser with the password (or the recovery key)
gets the identity back, and with it the whole history. The server cannot open them.

Bundle, 106 bytes::

    0x01 || kind(1) || nonce(24) || AEAD(key, nonce, sign_seed(32) || enc_sk(32), ad)
    ad = "confide/v1/key-bundle" || 0x01 || kind || sign_pk(32)

``kind`` is 0x01 for a password-derived key, 0x02 for a recovery key.
"""

from __future__ import annotations

import enum
import hmac

from . import _labels
from ._fields import check_version, require_bytes, require_length, require_type
from ._primitives import KEY_SIZE, NONCE_SIZE, TAG_SIZE, aead_decrypt, aead_encrypt, new_nonce
from ._secret import Secret
from .errors import BindingError, FormatError
from .identity import IDENTITY_SECRET_SIZE, IdentityKeyPair, PublicIdentity

__all__ = [
    "IDENTITY_KEYS_SIZE",
    "BUNDLE_SIZE",
    "BUNDLE_VERSION",
    "BundleKind",
    "WrappingKey",
    "identity_keys",
    "parse_bundle",
    "unwrap_identity",
    "wrap_identity",
]

BUNDLE_VERSION = 0x01
BUNDLE_SIZE = 1 + 1 + NONCE_SIZE + IDENTITY_SECRET_SIZE + TAG_SIZE  # 106


class BundleKind(enum.IntEnum):
    """Which secret the bundle's wrapping key comes from."""

    PASSWORD = 0x01
    RECOVERY = 0x02


class WrappingKey(Secret):
    """A 32-byte XChaCha20-Poly1305 key that wraps a private identity.

    Obtained from :func:`crypto.kdf.derive_password_keys` (``.kek``) or
    :meth:`crypto.recovery.RecoveryKey.wrapping_key`. Raises :class:`FormatError` if not
    exactly 32 bytes.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = require_length(key, KEY_SIZE, "The wrapping key")

    def _secret_material(self) -> bytes:
        return self._key


def _ad(header: bytes, sign_key: bytes) -> bytes:
    return _labels.KEY_BUNDLE + header + sign_key


def wrap_identity(identity: IdentityKeyPair, key: WrappingKey, kind: BundleKind) -> bytes:
    """Wrap ``identity`` under ``key`` with XChaCha20-Poly1305 and a random 24-byte nonce.

    Returns the 106-byte bundle. The identity's signing public key is bound in the
    associated data, so the bundle opens only for that identity. Raises
    :class:`FormatError` for arguments of the wrong type or an unknown ``kind``.
    """
    identity = require_type(identity, IdentityKeyPair, "The identity")
    key = require_type(key, WrappingKey, "The wrapping key")
    header = bytes([BUNDLE_VERSION, _check_kind(kind)])
    nonce = new_nonce()
    ciphertext = aead_encrypt(
        key._secret_material(),
        nonce,
        identity._secret_material(),
        _ad(header, identity.sign_key),
    )
    return header + nonce + ciphertext


def parse_bundle(blob: bytes) -> BundleKind:
    """Check a bundle's shape without any key (for the server) and return its kind.

    Raises :class:`UnsupportedVersionError` for a version other than 0x01,
    :class:`FormatError` for a length other than 106 bytes or an unknown kind.
    """
    data = require_bytes(blob, "A key bundle")
    check_version(data, BUNDLE_VERSION, "key bundle")
    require_length(data, BUNDLE_SIZE, "A key bundle")
    return BundleKind(_check_kind(data[1]))


def unwrap_identity(
    blob: bytes, key: WrappingKey, expected: PublicIdentity | bytes
) -> IdentityKeyPair:
    """Open a bundle made by :func:`wrap_identity` and return the private identity.

    ``expected`` is the user's published public identity, or only its keys,
    ``sign_pk || enc_pk`` (64 bytes: what a password recovery is told, crypto/SPEC.md,
    "Recovery"). Raises, in this order:
    :class:`UnsupportedVersionError`/:class:`FormatError` for a bad shape;
    :class:`DecryptionError` for a wrong password or recovery key, an altered bundle, or a
    bundle of another identity (the causes are indistinguishable);
    :class:`BindingError` if it decrypts to keys other than ``expected``. The returned
    identity publishes ``expected`` itself (version 1 or 2), or, given keys only, their
    version-1 form (bind it to the published identity with ``as_published``).
    """
    data = require_bytes(blob, "A key bundle")
    parse_bundle(data)
    key = require_type(key, WrappingKey, "The wrapping key")
    published: PublicIdentity | None = None
    if isinstance(expected, bytes | bytearray):
        keys = require_length(bytes(expected), IDENTITY_KEYS_SIZE, "The expected keys")
        expected_sign, expected_enc = keys[:32], keys[32:]
    else:
        published = require_type(expected, PublicIdentity, "The expected identity")
        expected_sign, expected_enc = published.sign_key, published.enc_key
    header, nonce, ciphertext = data[:2], data[2 : 2 + NONCE_SIZE], data[2 + NONCE_SIZE :]
    plaintext = aead_decrypt(
        key._secret_material(),
        nonce,
        ciphertext,
        _ad(header, expected_sign),
        "The key bundle could not be decrypted: the password or recovery key is wrong, or "
        "the bundle belongs to another identity or was altered",
    )
    identity = IdentityKeyPair(plaintext)
    # Compare the keys, not the encoded identities: the signature is not what is at stake.
    if not (
        hmac.compare_digest(identity.sign_key, expected_sign)
        and hmac.compare_digest(identity.enc_key, expected_enc)
    ):
        raise BindingError(
            "The key bundle decrypts to keys that do not match the expected identity"
        )
    # A version-2 identity's X-Wing key is derived from these keys; it must be that one.
    if published is not None and published.version != 1:
        return identity.as_published(published)
    return identity


# An identity's keys without the identity: sign_pk || enc_pk.
IDENTITY_KEYS_SIZE = 64


def identity_keys(identity: PublicIdentity) -> bytes:
    """``sign_pk || enc_pk`` (64 bytes): what a key bundle must hold, without the rest of
    the identity (its version and time)."""
    identity = require_type(identity, PublicIdentity, "The identity")
    return identity.sign_key + identity.enc_key


def _check_kind(kind: object) -> int:
    if isinstance(kind, bool) or not isinstance(kind, int):
        raise FormatError(f"The key bundle kind must be a BundleKind, not {kind!r}")
    if kind not in {member.value for member in BundleKind}:
        raise FormatError(f"Unknown key bundle kind {kind:#04x}")
    return int(kind)
