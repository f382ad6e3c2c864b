"""Long-term identities: an Ed25519 signing key certifying an X25519 encryption key.

A user is named in every format by their Ed25519 public key (32 bytes), which is
self-verifying: the public identity carries the X25519 key signed by it.

Public identity, 129 bytes::

    0x01 || sign_pk(32) || enc_pk(32) || sig(64)
    sig = Ed25519-Sign(sign_sk, "confide/v1/identity" || 0x01 || sign_pk || enc_pk)
"""

from __future__ import annotations

import hmac

from . import _labels, _random
from ._fields import check_version, require_bytes, require_length
from ._primitives import (
    PUBLIC_KEY_SIZE,
    SEED_SIZE,
    SIGNATURE_SIZE,
    h_unkeyed,
    sign_detached,
    sign_seed_keypair,
    verify_detached,
    x25519,
    x25519_base,
)
from ._secret import Secret
from .errors import FormatError

__all__ = [
    "IDENTITY_SECRET_SIZE",
    "IDENTITY_VERSION",
    "PUBLIC_IDENTITY_SIZE",
    "IdentityKeyPair",
    "PublicIdentity",
]

IDENTITY_VERSION = 0x01
PUBLIC_IDENTITY_SIZE = 1 + PUBLIC_KEY_SIZE + PUBLIC_KEY_SIZE + SIGNATURE_SIZE  # 129
IDENTITY_SECRET_SIZE = SEED_SIZE + 32  # sign_seed || enc_sk

# Any clamped scalar maps every low-order point (and only those) to zero.
_LOW_ORDER_PROBE = bytes(range(1, 33))


def _signed_part(sign_key: bytes, enc_key: bytes) -> bytes:
    return bytes([IDENTITY_VERSION]) + sign_key + enc_key


class PublicIdentity:
    """A verified public identity: Ed25519 signing key and certified X25519 key.

    Construct it with :meth:`from_bytes`, which checks the 129-byte format, the version,
    the self-signature and that the X25519 key is not a low-order point. Equality and hash
    are by the encoded bytes; an instance is always valid.
    """

    __slots__ = ("_encoded", "_enc_key", "_sign_key")

    def __init__(self, encoded: bytes) -> None:
        """Parse and verify; same as :meth:`from_bytes`.

        Raises :class:`UnsupportedVersionError` for a version other than 0x01,
        :class:`FormatError` for a length other than 129, :class:`SignatureError` if the
        signature does not verify and :class:`WeakKeyError` for a low-order X25519 key.
        """
        data = require_bytes(encoded, "A public identity")
        check_version(data, IDENTITY_VERSION, "public identity")
        require_length(data, PUBLIC_IDENTITY_SIZE, "A public identity")
        sign_key = data[1:33]
        enc_key = data[33:65]
        verify_detached(
            sign_key,
            _labels.IDENTITY + data[:65],
            data[65:],
            "The public identity's self-signature does not verify: its encryption key is not "
            "certified by its signing key",
        )
        x25519(_LOW_ORDER_PROBE, enc_key, "public identity's encryption key")
        self._encoded = data
        self._sign_key = sign_key
        self._enc_key = enc_key

    @classmethod
    def from_bytes(cls, encoded: bytes) -> PublicIdentity:
        """Parse and verify a 129-byte public identity (see the constructor for errors)."""
        return cls(encoded)

    @property
    def sign_key(self) -> bytes:
        """The Ed25519 public key (32 bytes) that names this user in every format."""
        return self._sign_key

    @property
    def enc_key(self) -> bytes:
        """The X25519 public key (32 bytes) that conversation keys are wrapped to."""
        return self._enc_key

    def to_bytes(self) -> bytes:
        """The 129-byte encoding."""
        return self._encoded

    def fingerprint(self) -> bytes:
        """BLAKE2b-256 of ``"confide/v1/fingerprint" || sign_pk || enc_pk`` (32 bytes)."""
        return h_unkeyed(_labels.FINGERPRINT + self._sign_key + self._enc_key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicIdentity):
            return NotImplemented
        return hmac.compare_digest(self._encoded, other._encoded)

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        return f"PublicIdentity(sign_key={self._sign_key[:4].hex()}…)"

    def __reduce__(self) -> tuple[type[PublicIdentity], tuple[bytes]]:
        # Unpickling goes through the constructor, so the signature is checked again.
        return (PublicIdentity, (self._encoded,))


class IdentityKeyPair(Secret):
    """A user's private identity: an Ed25519 seed and an X25519 secret key.

    Create one with :meth:`generate`; get one back from a key bundle with
    :func:`crypto.bundle.unwrap_identity`. The private keys are never exported except as
    the plaintext of a key bundle.

    The constructor takes the 64-byte private form ``sign_seed(32) || enc_sk(32)`` (the
    key-bundle plaintext) and raises :class:`FormatError` for any other length.
    """

    __slots__ = ("_enc_secret", "_public", "_sign_secret", "_sign_seed")

    def __init__(self, secret: bytes) -> None:
        data = require_length(secret, IDENTITY_SECRET_SIZE, "The identity secret")
        self._sign_seed = data[:SEED_SIZE]
        self._enc_secret = data[SEED_SIZE:]
        sign_key, self._sign_secret = sign_seed_keypair(self._sign_seed)
        enc_key = x25519_base(self._enc_secret)
        signed = _signed_part(sign_key, enc_key)
        signature = sign_detached(self._sign_secret, _labels.IDENTITY + signed)
        self._public = PublicIdentity(signed + signature)

    @classmethod
    def generate(cls) -> IdentityKeyPair:
        """A new identity: a random 32-byte Ed25519 seed, then a random X25519 secret."""
        sign_seed = _random.random_bytes(SEED_SIZE)
        enc_secret = _random.random_bytes(32)
        return cls(sign_seed + enc_secret)

    @property
    def public(self) -> PublicIdentity:
        """The signed public identity to publish."""
        return self._public

    @property
    def sign_key(self) -> bytes:
        """The Ed25519 public key (32 bytes)."""
        return self._public.sign_key

    @property
    def enc_key(self) -> bytes:
        """The X25519 public key (32 bytes)."""
        return self._public.enc_key

    def _secret_material(self) -> bytes:
        return self._sign_seed + self._enc_secret

    def _public_repr(self) -> str:
        return f"sign_public={self.sign_key[:2].hex()}…"

    def _sign(self, message: bytes) -> bytes:
        """Ed25519 detached signature (64 bytes); the message must carry its own label."""
        return sign_detached(self._sign_secret, message)

    def _shared_secret(self, peer_public: bytes, what: str) -> bytes:
        """X25519 with this identity's secret; raises WeakKeyError for low-order points."""
        if len(peer_public) != PUBLIC_KEY_SIZE:
            raise FormatError(f"The {what} must be exactly 32 bytes long")
        return x25519(self._enc_secret, peer_public, what)
