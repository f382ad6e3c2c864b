"""``make_recovery_material`` opens the recovery copy with the recovery key and wraps the
same identity under a new password, with a proof the identity made; the recovery copy and
key stay valid, and no secret shows in a ``repr``."""

from __future__ import annotations

import pytest

from crypto import (
    BundleKind,
    DecryptionError,
    FormatError,
    RecoveryKey,
    SignUpMaterial,
    derive_password_keys,
    make_recovery_material,
    make_sign_up_material,
    unwrap_identity,
    verify_recovery,
)
from tests.crypto.conftest import SMALL_KDF_PARAMS

CHALLENGE = bytes(range(32))
EMAIL = "clara@practice.invalid"


@pytest.fixture(scope="module")
def signed_up() -> SignUpMaterial:
    return make_sign_up_material("the old password", SMALL_KDF_PARAMS)


def test_the_new_password_opens_the_same_identity_and_the_proof_verifies(
    signed_up: SignUpMaterial,
) -> None:
    made = make_recovery_material(
        signed_up.recovery_key,
        signed_up.recovery_bundle,
        signed_up.public_identity,
        "the new password",
        challenge=CHALLENGE,
        email=EMAIL,
        params=SMALL_KDF_PARAMS,
    )

    claim = made.claim
    assert made.identity.public == signed_up.public_identity
    assert claim.salt != signed_up.salt
    keys = derive_password_keys("the new password", claim.salt, claim.params)
    assert keys.auth_secret == claim.auth_secret
    opened = unwrap_identity(claim.key_bundle, keys.kek, signed_up.public_identity)
    assert opened.public == signed_up.public_identity
    verify_recovery(signed_up.public_identity, claim, made.proof)
    # The recovery copy is untouched and still opens with the same key.
    again = unwrap_identity(
        signed_up.recovery_bundle,
        signed_up.recovery_key.wrapping_key(),
        signed_up.public_identity,
    )
    assert again.public == signed_up.public_identity


def test_a_wrong_recovery_key_gives_a_decryption_error(signed_up: SignUpMaterial) -> None:
    with pytest.raises(DecryptionError):
        make_recovery_material(
            RecoveryKey.generate(),
            signed_up.recovery_bundle,
            signed_up.public_identity,
            "the new password",
            challenge=CHALLENGE,
            email=EMAIL,
            params=SMALL_KDF_PARAMS,
        )


def test_the_password_bundle_is_not_a_recovery_bundle(signed_up: SignUpMaterial) -> None:
    """The password copy is bound to its kind: the recovery key cannot open it."""
    with pytest.raises(DecryptionError):
        make_recovery_material(
            signed_up.recovery_key,
            signed_up.key_bundle,
            signed_up.public_identity,
            "the new password",
            challenge=CHALLENGE,
            email=EMAIL,
            params=SMALL_KDF_PARAMS,
        )


@pytest.mark.parametrize(
    ("challenge", "email", "password"),
    [(CHALLENGE[:31], EMAIL, "p"), (CHALLENGE, "", "p"), (CHALLENGE, EMAIL, "")],
    ids=["a short challenge", "an empty email", "an empty new password"],
)
def test_malformed_arguments_are_format_errors(
    signed_up: SignUpMaterial, challenge: bytes, email: str, password: str
) -> None:
    with pytest.raises(FormatError):
        make_recovery_material(
            signed_up.recovery_key,
            signed_up.recovery_bundle,
            signed_up.public_identity,
            password,
            challenge=challenge,
            email=email,
            params=SMALL_KDF_PARAMS,
        )


def test_no_secret_shows_in_a_repr(signed_up: SignUpMaterial) -> None:
    made = make_recovery_material(
        signed_up.recovery_key,
        signed_up.recovery_bundle,
        signed_up.public_identity,
        "the new password",
        challenge=CHALLENGE,
        email=EMAIL,
        params=SMALL_KDF_PARAMS,
    )

    shown = repr(made)
    assert made.claim.auth_secret.hex() not in shown
    assert repr(made.claim.auth_secret) not in shown
    assert "the new password" not in shown
    assert "IdentityKeyPair" not in shown
    assert made.claim.key_bundle[0:2] == bytes([1, BundleKind.PASSWORD])
