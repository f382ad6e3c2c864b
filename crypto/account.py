"""A new account's keys, made as every client makes them at sign-up, and new password
material made with the recovery key (crypto/SPEC.md, "Password derivation", "Key bundles"
and "Recovery")."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._fields import require_type
from .bundle import BundleKind, unwrap_identity, wrap_identity
from .identity import IdentityKeyPair, PublicIdentity
from .kdf import DEFAULT_KDF_PARAMS, KdfParams, derive_password_keys, new_salt
from .recovery import RecoveryClaim, RecoveryKey, sign_recovery


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


@dataclass(frozen=True)
class RecoveryMaterial:
    """New password material made with the recovery key: what ``recover/finish`` sends
    (``claim`` and its ``proof``, public or wrapped but for the new authentication secret)
    and the identity it opened, which stays with the client. Secrets are kept out of
    ``repr``."""

    claim: RecoveryClaim
    proof: bytes
    identity: IdentityKeyPair = field(repr=False)


def make_recovery_material(
    recovery_key: RecoveryKey,
    recovery_bundle: bytes,
    public_identity: PublicIdentity | bytes,
    new_password: str,
    *,
    challenge: bytes,
    email: str,
    params: KdfParams = DEFAULT_KDF_PARAMS,
) -> RecoveryMaterial:
    """Opens the recovery copy of the identity and wraps it under a new password.

    A new salt, ``params`` and the new password give a new authentication secret and key
    bundle; the identity signs the claim, bound to the server's ``challenge`` and the
    account's ``email``. The recovery bundle and the recovery key stay as they are.

    Raises :class:`DecryptionError` if the recovery key does not open ``recovery_bundle``
    (a wrong key, or a bundle of another identity), :class:`BindingError` if it opens to
    keys other than ``public_identity`` (the identity, or its 64 bytes of keys as
    ``recover/begin`` tells them), :class:`FormatError` for a malformed argument or
    an empty new password.
    """
    recovery_key = require_type(recovery_key, RecoveryKey, "The recovery key")
    identity = unwrap_identity(recovery_bundle, recovery_key.wrapping_key(), public_identity)
    salt = new_salt()
    keys = derive_password_keys(new_password, salt, params)
    claim = RecoveryClaim(
        challenge=challenge,
        email=email,
        salt=salt,
        params=params,
        auth_secret=keys.auth_secret,
        key_bundle=wrap_identity(identity, keys.kek, BundleKind.PASSWORD),
    )
    return RecoveryMaterial(claim=claim, proof=sign_recovery(identity, claim), identity=identity)
