"""The one exception hierarchy of the ``crypto`` package.

Every failure in this package is raised as a subclass of :class:`CryptoError`, with a
message that says exactly what was wrong. Nothing in the package returns plaintext, a key
or ``None`` on failure, and nothing falls back silently.

The class names are part of the protocol: the known-answer vectors in ``crypto/vectors``
name the expected failure by class name, and the browser implementation maps them.
"""

from __future__ import annotations

__all__ = [
    "BindingError",
    "CryptoError",
    "DecryptionError",
    "FormatError",
    "SignatureError",
    "UnsupportedVersionError",
    "WeakKeyError",
    "WeakParametersError",
]


class CryptoError(Exception):
    """Base class of every error raised by the ``crypto`` package."""


class FormatError(CryptoError):
    """Malformed input: wrong length, truncated, bad encoding or a field with a bad value.

    Also raised for arguments of the wrong type or out of range (an epoch that does not fit
    in 32 bits, an id that is not 16 bytes), so that callers catch one hierarchy only.
    """


class UnsupportedVersionError(FormatError):
    """The version byte at the start of a format is not one this implementation knows."""


class WeakParametersError(FormatError):
    """Argon2id parameters within the format's bounds but cheaper than this client's floor.

    The floor is the client's own sign-up default. Parameters below it come from a server
    that wants the password derived cheaply, so that the authentication secret it receives,
    or the wrapped bundle it keeps, is cheaper to guess the password from.
    """


class DecryptionError(CryptoError):
    """XChaCha20-Poly1305 authentication failed.

    The key is wrong, the ciphertext, nonce or tag was altered, or the associated data
    (which binds format version, ids and keys) differs from what was encrypted. The causes
    are deliberately indistinguishable.
    """


class SignatureError(CryptoError):
    """An Ed25519 signature does not verify under the expected public key."""


class BindingError(CryptoError):
    """Well-formed and authentic, but bound to another context than the caller expected.

    For example a message signed by the expected sender for another conversation, epoch or
    client message id, or a key bundle that decrypts to keys of another identity.
    """


class DowngradeError(BindingError):
    """A classical (X25519-only) envelope for an epoch that began after its recipient's
    identity held an X-Wing key: the server offered the wrapper an older identity."""


class WeakKeyError(CryptoError):
    """An X25519 public key is a low-order point, so the shared secret would be all zeros."""
