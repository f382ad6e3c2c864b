"""The key material of a new account, as its own browser (or Python client) made it: the
public identity and the two wrapped copies of its private keys (crypto/SPEC.md). The server
checks their shape and the identity's signature; it can open neither bundle."""

from __future__ import annotations

from dataclasses import dataclass, field

import crypto
from crypto import CryptoError, KdfParams, PublicIdentity
from protocol.errors import BadRequestError
from protocol.http import KdfBody


@dataclass(frozen=True)
class AccountKeys:
    auth_secret: str = field(repr=False)
    salt: bytes
    params: KdfParams
    public_identity: bytes
    key_bundle: bytes
    recovery_bundle: bytes


def decode(text: str, what: str) -> bytes:
    """Base64url from a request body (``BadRequestError`` naming the field otherwise)."""
    try:
        return crypto.b64decode(text)
    except CryptoError as exc:
        raise BadRequestError(f"Invalid request: {what}: {exc}") from None


def kdf_params(kdf: KdfBody) -> KdfParams:
    try:
        return KdfParams(kdf.opslimit, kdf.memlimit)
    except CryptoError as exc:
        raise BadRequestError(f"Invalid request: kdf: {exc}") from None


def account_keys(
    *, auth_secret: str, kdf: KdfBody, public_identity: str, key_bundle: str, recovery_bundle: str
) -> AccountKeys:
    """The key material of a sign-up body, decoded (not yet checked: :func:`check_keys`)."""
    return AccountKeys(
        auth_secret=auth_secret,
        salt=decode(kdf.salt, "kdf.salt"),
        params=kdf_params(kdf),
        public_identity=decode(public_identity, "public_identity"),
        key_bundle=decode(key_bundle, "key_bundle"),
        recovery_bundle=decode(recovery_bundle, "recovery_bundle"),
    )


def check_keys(keys: AccountKeys) -> PublicIdentity:
    """The public parts are well formed and self-consistent: a signed identity, a
    password-wrapped and a recovery-wrapped bundle, a 16-byte salt."""
    try:
        identity = PublicIdentity.from_bytes(keys.public_identity)
        if crypto.parse_bundle(keys.key_bundle) != crypto.BundleKind.PASSWORD:
            raise BadRequestError("key_bundle must be a password-wrapped bundle.")
        if crypto.parse_bundle(keys.recovery_bundle) != crypto.BundleKind.RECOVERY:
            raise BadRequestError("recovery_bundle must be a recovery-key-wrapped bundle.")
    except CryptoError as exc:
        raise BadRequestError(f"Invalid key material: {exc}") from None
    if len(keys.salt) != 16:
        raise BadRequestError("The salt must be 16 bytes.")
    return identity


__all__ = ["AccountKeys", "account_keys", "check_keys", "decode", "kdf_params"]
