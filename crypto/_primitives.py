"""Thin, exact wrappers over the libsodium primitives the protocol uses.

Only primitives that libsodium.js also exposes are used, so that the browser implementation
produces the same bytes: BLAKE2b (``crypto_generichash``), XChaCha20-Poly1305-IETF,
Ed25519 detached signatures, X25519 and X-Wing (``crypto_kem_xwing``; PyNaCl does not bind
it, so it is put together here from OpenSSL's ML-KEM-768 and libsodium's X25519). Every
libsodium failure is translated into the package's own exceptions here, and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac

import nacl.bindings
import nacl.exceptions
import nacl.hash
from cryptography.hazmat.primitives.asymmetric import mlkem
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


# X-Wing (draft-connolly-cfrg-xwing-kem, the KEM libsodium 1.0.22 names crypto_kem_xwing):
# ML-KEM-768 from pyca/cryptography (OpenSSL), X25519 from PyNaCl, SHA3-256 and SHAKE256
# from hashlib, combined as the draft does; libsodium.js computes the same bytes.
XWING_SEED_SIZE = 32
XWING_PUBLIC_KEY_SIZE = 1216
XWING_CIPHERTEXT_SIZE = 1120
_MLKEM_PUBLIC_KEY_SIZE = 1184
_MLKEM_CIPHERTEXT_SIZE = 1088
_XWING_LABEL = b"\\.//^\\"


def _xwing_expand(seed: bytes) -> tuple[mlkem.MLKEM768PrivateKey, bytes, bytes]:
    expanded = hashlib.shake_256(seed).digest(96)
    mlkem_secret = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    x_secret = expanded[64:]
    return mlkem_secret, x_secret, x25519_base(x_secret)


def _xwing_combine(mlkem_shared: bytes, x_shared: bytes, x_ct: bytes, x_pk: bytes) -> bytes:
    return hashlib.sha3_256(mlkem_shared + x_shared + x_ct + x_pk + _XWING_LABEL).digest()


def xwing_public_key(seed: bytes) -> bytes:
    """The 1216-byte X-Wing public key of a 32-byte decapsulation seed."""
    mlkem_secret, _, x_pk = _xwing_expand(seed)
    return mlkem_secret.public_key().public_bytes_raw() + x_pk


def xwing_check_public_key(public_key: bytes, what: str) -> None:
    """Refuse an X-Wing public key whose ML-KEM part fails FIPS 203's modulus check or whose
    X25519 part is a low-order point (:class:`WeakKeyError`)."""
    try:
        mlkem.MLKEM768PublicKey.from_public_bytes(public_key[:_MLKEM_PUBLIC_KEY_SIZE])
    except ValueError:
        raise WeakKeyError(f"The {what} is not a valid ML-KEM-768 key") from None
    x25519(bytes(range(1, 33)), public_key[_MLKEM_PUBLIC_KEY_SIZE:], what)


def xwing_encapsulate(public_key: bytes) -> tuple[bytes, bytes]:
    """X-Wing encapsulation to a checked public key: ``(shared secret 32, ciphertext 1120)``.

    The X25519 ephemeral secret comes from :mod:`crypto._random`; ML-KEM's 32 bytes of
    randomness are drawn inside OpenSSL, so a Python encapsulation cannot be replayed."""
    mlkem_pk = mlkem.MLKEM768PublicKey.from_public_bytes(public_key[:_MLKEM_PUBLIC_KEY_SIZE])
    x_pk = public_key[_MLKEM_PUBLIC_KEY_SIZE:]
    x_eph = _random.random_bytes(32)
    x_ct = x25519_base(x_eph)
    x_shared = x25519(x_eph, x_pk, "X-Wing key's X25519 part")
    mlkem_shared, mlkem_ct = mlkem_pk.encapsulate()
    return _xwing_combine(mlkem_shared, x_shared, x_ct, x_pk), mlkem_ct + x_ct


def xwing_decapsulate(seed: bytes, ciphertext: bytes) -> bytes:
    """X-Wing decapsulation of a 1120-byte ciphertext with a 32-byte seed (32-byte secret).

    ML-KEM rejects implicitly (a wrong ciphertext yields an unrelated secret); the X25519
    part of the ciphertext must not be a low-order point (:class:`WeakKeyError`)."""
    mlkem_secret, x_secret, x_pk = _xwing_expand(seed)
    x_ct = ciphertext[_MLKEM_CIPHERTEXT_SIZE:]
    x_shared = x25519(x_secret, x_ct, "X-Wing ciphertext's X25519 part")
    mlkem_shared = mlkem_secret.decapsulate(ciphertext[:_MLKEM_CIPHERTEXT_SIZE])
    return _xwing_combine(mlkem_shared, x_shared, x_ct, x_pk)
