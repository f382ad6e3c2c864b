"""A new account's keys, made as every client makes them at sign-up (crypto/SPEC.md,
"Password derivation" and "Key bundles")."""

from __future__ import annotations

from dataclasses import dataclass, field

from .bundle import BundleKind, wrap_identity
from .identity import IdentityKeyPair, PublicIdentity
from .kdf import DEFAULT_KDF_PARAMS, KdfParams, derive_password_keys, new_salt
from .recovery import RecoveryKey


@dataclass(frozen=True)
class SignUpMaterial:
    """What sign-up sends to the server (all public or wrapped) and what stays with the
    client. The secrets are kept out of ``repr``."""

    salt: bytes
    params: KdfParams
    auth_secret: bytes = field(repr=False)
    public_identity: PublicIdentity
    key_bundle: bytes
    recovery_bundle: bytes
    identity: IdentityKeyPair = field(repr=False)
    recovery_key: RecoveryKey = field(repr=False)


def make_sign_up_material(password: str, params: KdfParams = DEFAULT_KDF_PARAMS) -> SignUpMaterial:
    """New identity keys, wrapped under the password and under a new recovery key."""
    salt = new_salt()
    keys = derive_password_keys(password, salt, params)
    identity = IdentityKeyPair.generate()
    recovery = RecoveryKey.generate()
    return SignUpMaterial(
        salt=salt,
        params=params,
        auth_secret=keys.auth_secret,
        public_identity=identity.public,
        key_bundle=wrap_identity(identity, keys.kek, BundleKind.PASSWORD),
        recovery_bundle=wrap_identity(identity, recovery.wrapping_key(), BundleKind.RECOVERY),
        identity=identity,
        recovery_key=recovery,
    )
