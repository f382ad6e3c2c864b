"""Long-term identities: an Ed25519 signing key certifying an X25519 encryption key.

A user is named in every format by their Ed25519 public key (32 bytes), which is
self-verifying: the public identity carries the X25519 key signed by it.

Public identity, 129 bytes::

    0x01 || sign_pk(32) || enc_pk(32) || sig(64)
    sig = Ed25519-Sign(sign_sk, "confide/v1/identity" || 0x01 || sign_pk || enc_pk)

Version 2, 1,353 bytes, adds the X-Wing key that epoch keys are wrapped to (version-3
envelopes) and the time from which the identity holds it::

    0x02 || sign_pk(32) || enc_pk(32) || xwing_pk(1216) || u64(since) || sig(64)
    xwing_seed = H(sign_seed, "confide/v1/xwing-seed")

The X-Wing key is derived from the Ed25519 seed (never from the X25519 secret, which a
quantum computer recovers from enc_pk), so a key bundle holds the same 64 bytes for both
versions, and the fingerprint (of sign_pk and enc_pk) does not change when an
identity moves to version 2.
"""

from __future__ import annotations

import hmac
import time
from typing import Literal

from . import _labels, _random
from ._fields import (
    MAX_SAFE_INTEGER,
    check_version,
    require_bytes,
    require_length,
    require_type,
    u64,
)
from ._primitives import (
    PUBLIC_KEY_SIZE,
    SEED_SIZE,
    SIGNATURE_SIZE,
    XWING_PUBLIC_KEY_SIZE,
    h,
    h_unkeyed,
    sign_detached,
    sign_seed_keypair,
    verify_detached,
    x25519,
    x25519_base,
    xwing_check_public_key,
    xwing_decapsulate,
    xwing_public_key,
)
from ._secret import Secret
from .errors import BindingError, FormatError


def _now_ms() -> int:
    return int(time.time() * 1000)


__all__ = [
    "IDENTITY_SECRET_SIZE",
    "IDENTITY_VERSION",
    "IDENTITY_VERSION_2",
    "PUBLIC_IDENTITY_SIZE",
    "PUBLIC_IDENTITY_SIZE_V2",
    "IdentityKeyPair",
    "PublicIdentity",
]

IDENTITY_VERSION = 0x01
IDENTITY_VERSION_2 = 0x02
PUBLIC_IDENTITY_SIZE = 1 + PUBLIC_KEY_SIZE + PUBLIC_KEY_SIZE + SIGNATURE_SIZE  # 129
PUBLIC_IDENTITY_SIZE_V2 = PUBLIC_IDENTITY_SIZE + XWING_PUBLIC_KEY_SIZE + 8  # 1353
_SIZES = {IDENTITY_VERSION: PUBLIC_IDENTITY_SIZE, IDENTITY_VERSION_2: PUBLIC_IDENTITY_SIZE_V2}
IDENTITY_SECRET_SIZE = SEED_SIZE + 32  # sign_seed || enc_sk

# Any clamped scalar maps every low-order point (and only those) to zero.
_LOW_ORDER_PROBE = bytes(range(1, 33))


def _signed_part(sign_key: bytes, enc_key: bytes, xwing_key: bytes, since: int | None) -> bytes:
    if since is None:
        return bytes([IDENTITY_VERSION]) + sign_key + enc_key
    return bytes([IDENTITY_VERSION_2]) + sign_key + enc_key + xwing_key + u64(since)


def identity_size(version: int) -> int:
    """The length of a public identity of a known ``version`` (129 or 1,353 bytes)."""
    return _SIZES[version]


def _check_since(since: object) -> int:
    if isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= MAX_SAFE_INTEGER:
        raise FormatError(
            f"The time an identity holds its X-Wing key from must be an integer from 0 to "
            f"2^53 - 1 (milliseconds since 1970), not {since!r}"
        )
    return since


class PublicIdentity:
    """A verified public identity: Ed25519 signing key and certified X25519 key.

    Construct it with :meth:`from_bytes`, which checks the format (129 bytes for version 1,
    1,353 for version 2), the self-signature and that no key is weak. Equality and hash are
    by the encoded bytes; an instance is always valid.
    """

    __slots__ = ("_enc_key", "_encoded", "_since", "_sign_key", "_xwing_key")

    def __init__(self, encoded: bytes) -> None:
        """Parse and verify; same as :meth:`from_bytes`.

        Raises :class:`UnsupportedVersionError` for a version other than 0x01 or 0x02,
        :class:`FormatError` for another length than the version's or a time above
        2^53 - 1, :class:`SignatureError` if the signature does not verify and
        :class:`WeakKeyError` for a low-order X25519 key or an X-Wing key whose ML-KEM
        part fails the modulus check.
        """
        data = require_bytes(encoded, "A public identity")
        version = check_version(data, _SIZES, "public identity")
        require_length(
            data,
            _SIZES[version],
            "A public identity" if version == 1 else "A version 2 public identity",
        )
        body_end = len(data) - SIGNATURE_SIZE
        sign_key = data[1:33]
        enc_key = data[33:65]
        verify_detached(
            sign_key,
            _labels.IDENTITY + data[:body_end],
            data[body_end:],
            "The public identity's self-signature does not verify: its encryption keys are "
            "not certified by its signing key",
        )
        x25519(_LOW_ORDER_PROBE, enc_key, "public identity's encryption key")
        self._xwing_key: bytes | None = None
        self._since: int | None = None
        if version == IDENTITY_VERSION_2:
            xwing_key = data[65 : 65 + XWING_PUBLIC_KEY_SIZE]
            since = int.from_bytes(data[65 + XWING_PUBLIC_KEY_SIZE : body_end], "big")
            if since > MAX_SAFE_INTEGER:
                raise FormatError("The identity's time is above 2^53 - 1")
            xwing_check_public_key(xwing_key, "public identity's X-Wing key")
            self._xwing_key = xwing_key
            self._since = since
        self._encoded = data
        self._sign_key = sign_key
        self._enc_key = enc_key

    @classmethod
    def from_bytes(cls, encoded: bytes) -> PublicIdentity:
        """Parse and verify a public identity (see the constructor for errors)."""
        return cls(encoded)

    @property
    def version(self) -> int:
        """1, or 2 for an identity that holds an X-Wing key."""
        return self._encoded[0]

    @property
    def xwing_key(self) -> bytes | None:
        """The X-Wing public key (1,216 bytes) of a version-2 identity; None for version 1."""
        return self._xwing_key

    @property
    def since(self) -> int | None:
        """When a version-2 identity began to hold its X-Wing key (milliseconds since 1970,
        by its owner's clock, signed); None for version 1."""
        return self._since

    @property
    def sign_key(self) -> bytes:
        """The Ed25519 public key (32 bytes) that names this user in every format."""
        return self._sign_key

    @property
    def enc_key(self) -> bytes:
        """The X25519 public key (32 bytes) that conversation keys are wrapped to."""
        return self._enc_key

    def to_bytes(self) -> bytes:
        """The encoding (129 or 1,353 bytes)."""
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
    """A user's private identity: an Ed25519 seed and an X25519 secret key, and the X-Wing
    key derived from the latter.

    Create one with :meth:`generate`; get one back from a key bundle with
    :func:`crypto.bundle.unwrap_identity`. The private keys are never exported except as
    the plaintext of a key bundle.

    The constructor takes the 64-byte private form ``sign_seed(32) || enc_sk(32)`` (the
    key-bundle plaintext) and raises :class:`FormatError` for any other length. Its public
    identity is of version 1, or with ``since`` (milliseconds since 1970, 0 to 2^53 - 1)
    of version 2.
    """

    __slots__ = (
        "_enc_secret",
        "_public",
        "_secret",
        "_sign_secret",
        "_sign_seed",
        "_xwing_seed",
    )

    def __init__(self, secret: bytes, since: int | None = None) -> None:
        data = require_length(secret, IDENTITY_SECRET_SIZE, "The identity secret")
        if since is not None:
            since = _check_since(since)
        self._secret = data
        self._sign_seed = data[:SEED_SIZE]
        self._enc_secret = data[SEED_SIZE:]
        # From the Ed25519 seed, not the X25519 secret: X25519 falls to a quantum computer,
        # and its secret would then give the X-Wing key too; the seed stays behind SHA-512.
        self._xwing_seed = h(self._sign_seed, _labels.XWING_SEED)
        sign_key, self._sign_secret = sign_seed_keypair(self._sign_seed)
        enc_key = x25519_base(self._enc_secret)
        xwing_key = xwing_public_key(self._xwing_seed) if since is not None else b""
        signed = _signed_part(sign_key, enc_key, xwing_key, since)
        signature = sign_detached(self._sign_secret, _labels.IDENTITY + signed)
        self._public = PublicIdentity(signed + signature)

    @classmethod
    def generate(cls, since: int | None | Literal["now"] = "now") -> IdentityKeyPair:
        """A new identity: a random 32-byte Ed25519 seed, then a random X25519 secret.

        Version 2, holding its X-Wing key from ``since`` (default: now); version 1 with
        ``since=None`` (for the vectors of version 1)."""
        if since is not None and since != "now":
            since = _check_since(since)
        sign_seed = _random.random_bytes(SEED_SIZE)
        enc_secret = _random.random_bytes(32)
        return cls(sign_seed + enc_secret, _now_ms() if since == "now" else since)

    def upgraded(self, since: int | None = None) -> IdentityKeyPair:
        """The same keys with a version-2 public identity holding the X-Wing key from
        ``since`` (default: now); this identity itself if it already is version 2."""
        if self._public.since is not None:
            return self
        return IdentityKeyPair(self._secret, _now_ms() if since is None else since)

    def as_published(self, published: PublicIdentity) -> IdentityKeyPair:
        """These keys with ``published`` as their public identity, if it certifies these
        very keys (the version-2 identity another device published, say).

        Raises :class:`BindingError` if it names another key."""
        published = require_type(published, PublicIdentity, "The published identity")
        if published == self._public:
            return self
        candidate = IdentityKeyPair(self._secret, published.since)
        if candidate.public != published:
            raise BindingError("The published identity certifies other keys than these")
        return candidate

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
        return self._secret

    def _xwing_decapsulate(self, ciphertext: bytes) -> bytes:
        """X-Wing decapsulation with this identity's derived key (32-byte shared secret)."""
        return xwing_decapsulate(self._xwing_seed, ciphertext)

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
