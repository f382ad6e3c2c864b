"""Thin, exact wrappers over the libsodium primitives the protocol uses.

Only primitives that libsodium.js also exposes are used, so that the browser implementation
produces the same bytes: BLAKE2b (``crypto_generichash``), XChaCha20-Poly1305-IETF,
Ed25519 detached signatures and X25519. Every libsodium failure is translated into the
package's own exceptions here, and nowhere else.
"""

from __future__ import annotations

import hmac

import nacl.bindings
import nacl.exceptions
import nacl.hash
from nacl.encoding import RawEncoder

from . import _random
from .errors import DecryptionError, SignatureError, WeakKeyError

KEY_SIZE = 32
NONCE_SIZE = 24
TAG_SIZE = 16
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
HASH_SIZE = 32

_ZERO_POINT = bytes(PUBLIC_KEY_SIZE)


def h(key: bytes, message: bytes) -> bytes:
    """``H(key, message)``: keyed BLAKE2b with a 32-byte output (``crypto_generichash``)."""
    return nacl.hash.blake2b(message, digest_size=HASH_SIZE, key=key, encoder=RawEncoder)


def h_unkeyed(message: bytes) -> bytes:
    """Unkeyed BLAKE2b with a 32-byte output (``crypto_generichash`` with no key)."""
    return nacl.hash.blake2b(message, digest_size=HASH_SIZE, encoder=RawEncoder)


def new_nonce() -> bytes:
    """A fresh random 24-byte XChaCha20-Poly1305 nonce."""
    return _random.random_bytes(NONCE_SIZE)


def aead_encrypt(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF encryption; returns ciphertext with the 16-byte tag appended."""
    return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes, failure: str) -> bytes:
    """XChaCha20-Poly1305-IETF decryption.

    Raises :class:`DecryptionError` with the message ``failure`` if authentication fails;
    never returns unauthenticated plaintext.
    """
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except nacl.exceptions.CryptoError:
        raise DecryptionError(failure) from None


def sign_seed_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """Ed25519 key pair from a 32-byte seed: ``(public 32 bytes, secret 64 bytes)``."""
    return nacl.bindings.crypto_sign_seed_keypair(seed)


def sign_detached(secret_key: bytes, message: bytes) -> bytes:
    """Ed25519 detached signature (64 bytes) of ``message`` under a 64-byte secret key."""
    return nacl.bindings.crypto_sign(message, secret_key)[:SIGNATURE_SIZE]


def verify_detached(public_key: bytes, message: bytes, signature: bytes, failure: str) -> None:
    """Verify an Ed25519 detached signature; raise :class:`SignatureError` with ``failure``.

    libsodium's verification rejects non-canonical signatures and small-order public keys.
    """
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.CryptoError:
        raise SignatureError(failure) from None


def x25519_base(secret_key: bytes) -> bytes:
    """X25519 public key of a 32-byte secret (clamped by libsodium)."""
    return nacl.bindings.crypto_scalarmult_base(secret_key)


def x25519(secret_key: bytes, public_key: bytes, what: str) -> bytes:
    """X25519 shared secret; raise :class:`WeakKeyError` if it is all zeros.

    An all-zero result means ``public_key`` is a low-order point and the "shared" secret
    would be known to anyone; libsodium reports it as an error, which is translated here.
    """
    try:
        shared = nacl.bindings.crypto_scalarmult(secret_key, public_key)
    except nacl.exceptions.CryptoError:
        shared = _ZERO_POINT
    if hmac.compare_digest(shared, _ZERO_POINT):
        raise WeakKeyError(
            f"The {what} is a low-order X25519 point: the shared secret would be all zeros"
        )
    return shared
