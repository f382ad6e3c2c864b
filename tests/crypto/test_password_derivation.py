"""Password derivation: Argon2id, then separate auth secret and key-encryption key."""

from __future__ import annotations

import hashlib
import time
import unicodedata

import nacl.pwhash.argon2id
import pytest

from crypto import (
    DEFAULT_KDF_PARAMS,
    FormatError,
    KdfParams,
    derive_password_keys,
)

MIB = 1024 * 1024
SALT = bytes(range(16))


def test_the_auth_secret_and_kek_are_keyed_blake2b_of_the_argon2id_master(
    small_kdf_params: KdfParams,
) -> None:
    keys = derive_password_keys("hunter2 hunter2", SALT, small_kdf_params)
    master = nacl.pwhash.argon2id.kdf(32, b"hunter2 hunter2", SALT, opslimit=2, memlimit=32 * MIB)
    assert (
        keys.auth_secret == hashlib.blake2b(b"confide/v1/auth", key=master, digest_size=32).digest()
    )
    kek = hashlib.blake2b(b"confide/v1/key-wrap", key=master, digest_size=32).digest()
    assert keys.kek._secret_material() == kek
    assert keys.auth_secret != kek


def test_composed_and_decomposed_spellings_give_the_same_keys(
    small_kdf_params: KdfParams,
) -> None:
    composed = "Caf\u00e9 Ol\u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    first = derive_password_keys(composed, SALT, small_kdf_params)
    second = derive_password_keys(decomposed, SALT, small_kdf_params)
    assert first.auth_secret == second.auth_secret
    assert first.kek == second.kek


def test_a_different_salt_or_password_gives_different_keys(small_kdf_params: KdfParams) -> None:
    base = derive_password_keys("password one", SALT, small_kdf_params)
    other_salt = derive_password_keys("password one", bytes(16), small_kdf_params)
    other_password = derive_password_keys("password two", SALT, small_kdf_params)
    assert len({base.auth_secret, other_salt.auth_secret, other_password.auth_secret}) == 3


def test_the_default_parameters_are_above_libsodium_interactive() -> None:
    assert DEFAULT_KDF_PARAMS == KdfParams(opslimit=3, memlimit=64 * MIB)
    assert DEFAULT_KDF_PARAMS.opslimit > nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    assert DEFAULT_KDF_PARAMS.memlimit >= nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


def test_the_default_parameters_cost_a_noticeable_fraction_of_a_second() -> None:
    start = time.perf_counter()
    derive_password_keys("correct horse battery staple", SALT, DEFAULT_KDF_PARAMS)
    elapsed = time.perf_counter() - start
    assert 0.02 < elapsed < 5.0


@pytest.mark.parametrize(
    ("opslimit", "memlimit", "message"),
    [
        (1, 32 * MIB, "opslimit must be from 2 to 10, not 1"),
        (11, 32 * MIB, "opslimit must be from 2 to 10, not 11"),
        (2, 32 * MIB - 1024, "memlimit must be from 33554432 to 268435456, not 33553408"),
        (2, 257 * MIB, "memlimit must be from 33554432 to 268435456, not 269484032"),
        (2, 32 * MIB + 1, "memlimit must be a whole number of KiB"),
        (True, 32 * MIB, "opslimit must be an integer"),
        (2, 32.0 * MIB, "memlimit must be an integer"),
    ],
)
def test_parameters_out_of_bounds_are_refused(opslimit: int, memlimit: int, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        KdfParams(opslimit=opslimit, memlimit=memlimit)


def test_an_empty_password_is_refused(small_kdf_params: KdfParams) -> None:
    with pytest.raises(FormatError, match="^The password must not be empty$"):
        derive_password_keys("", SALT, small_kdf_params)


def test_a_password_with_a_lone_surrogate_is_refused(small_kdf_params: KdfParams) -> None:
    with pytest.raises(FormatError, match="not valid Unicode text"):
        derive_password_keys("abc\ud800", SALT, small_kdf_params)


def test_the_auth_secret_is_offered_in_the_transport_encoding(
    small_kdf_params: KdfParams,
) -> None:
    keys = derive_password_keys("pw", SALT, small_kdf_params)
    assert len(keys.auth_secret_b64()) == 43
