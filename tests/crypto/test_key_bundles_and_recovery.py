"""Key bundles open only with the right key for the right identity; recovery keys catch typos."""

from __future__ import annotations

import pytest

from crypto import (
    BundleKind,
    DecryptionError,
    FormatError,
    IdentityKeyPair,
    KdfParams,
    RecoveryKey,
    derive_password_keys,
    new_salt,
    parse_bundle,
    unwrap_identity,
    wrap_identity,
)


def test_a_password_bundle_opens_with_the_same_password_only(
    clara: IdentityKeyPair, small_kdf_params: KdfParams
) -> None:
    salt = new_salt()
    keys = derive_password_keys("my long passphrase", salt, small_kdf_params)
    blob = wrap_identity(clara, keys.kek, BundleKind.PASSWORD)
    assert parse_bundle(blob) is BundleKind.PASSWORD
    again = derive_password_keys("my long passphrase", salt, small_kdf_params)
    assert unwrap_identity(blob, again.kek, clara.public) == clara
    wrong = derive_password_keys("my long passphrasE", salt, small_kdf_params)
    with pytest.raises(DecryptionError, match="password or recovery key is wrong"):
        unwrap_identity(blob, wrong.kek, clara.public)


def test_a_bundle_does_not_open_as_another_identity(
    clara: IdentityKeyPair, theo: IdentityKeyPair
) -> None:
    recovery = RecoveryKey.generate()
    blob = wrap_identity(clara, recovery.wrapping_key(), BundleKind.RECOVERY)
    with pytest.raises(DecryptionError):
        unwrap_identity(blob, recovery.wrapping_key(), theo.public)


def test_each_wrap_uses_a_fresh_nonce(clara: IdentityKeyPair) -> None:
    key = RecoveryKey.generate().wrapping_key()
    first = wrap_identity(clara, key, BundleKind.RECOVERY)
    second = wrap_identity(clara, key, BundleKind.RECOVERY)
    assert first[2:26] != second[2:26]


def test_the_recovery_display_is_14_groups_of_4_base32_characters() -> None:
    display = RecoveryKey.generate().display()
    groups = display.split("-")
    assert len(groups) == 14
    assert all(len(group) == 4 for group in groups)
    assert set("".join(groups)) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_the_recovery_key_is_accepted_as_people_type_it() -> None:
    recovery = RecoveryKey.generate()
    display = recovery.display()
    for typed in (
        display,
        display.lower(),
        display.replace("-", " "),
        display.replace("-", ""),
        f"\t{display}\n",
    ):
        assert RecoveryKey.from_display(typed) == recovery


def test_a_single_typo_is_reported_as_a_typo_not_as_a_wrong_key() -> None:
    display = RecoveryKey.generate().display()
    for position in range(0, len(display), 5):
        if display[position] == "-":
            continue
        replacement = "A" if display[position] != "A" else "B"
        typo = display[:position] + replacement + display[position + 1 :]
        with pytest.raises(FormatError, match="checksum does not match.*mistyped"):
            RecoveryKey.from_display(typo)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0" * 56, "contains '0', which is not one of its characters"),
        ("\u00df" * 28, "contains '\u00df'"),
        ("A" * 55, "has 56 letters and digits, not 55"),
        ("", "has 56 letters and digits, not 0"),
    ],
)
def test_malformed_recovery_keys_say_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        RecoveryKey.from_display(typed)


def test_the_recovery_and_password_copies_are_independent(
    clara: IdentityKeyPair, small_kdf_params: KdfParams
) -> None:
    recovery = RecoveryKey.generate()
    keys = derive_password_keys("pw", new_salt(), small_kdf_params)
    recovery_blob = wrap_identity(clara, recovery.wrapping_key(), BundleKind.RECOVERY)
    with pytest.raises(DecryptionError):
        unwrap_identity(recovery_blob, keys.kek, clara.public)
    assert unwrap_identity(recovery_blob, recovery.wrapping_key(), clara.public) == clara
