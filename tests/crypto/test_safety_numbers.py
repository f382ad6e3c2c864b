"""Safety numbers are symmetric, change when any key changes, and have the documented form."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from crypto import (
    BindingError,
    FormatError,
    IdentityKeyPair,
    PublicIdentity,
    format_safety_number,
    safety_number,
    safety_qr_payload,
    verify_safety_qr,
)
from crypto.safety import fingerprint


def test_the_fingerprint_is_unkeyed_blake2b_of_label_and_keys(clara: IdentityKeyPair) -> None:
    import hashlib

    message = b"confide/v1/fingerprint" + clara.sign_key + clara.enc_key
    assert fingerprint(clara.public) == hashlib.blake2b(message, digest_size=32).digest()
    assert clara.public.fingerprint() == fingerprint(clara.public)


def with_new_enc_key(identity: IdentityKeyPair) -> PublicIdentity:
    seed = identity._secret_material()[:32]
    return IdentityKeyPair(seed + bytes(range(32))).public


def with_new_sign_key(identity: IdentityKeyPair) -> PublicIdentity:
    enc_secret = identity._secret_material()[32:]
    return IdentityKeyPair(bytes(range(32)) + enc_secret).public


def test_both_sides_compute_the_same_number_and_payload(
    clara: IdentityKeyPair, theo: IdentityKeyPair
) -> None:
    a, b = clara.public, theo.public
    assert safety_number(a, b) == safety_number(b, a)
    assert safety_qr_payload(a, b) == safety_qr_payload(b, a)
    verify_safety_qr(safety_qr_payload(a, b), b, a)


def test_the_number_is_60_digits_shown_as_12_groups_of_5(
    clara: IdentityKeyPair, theo: IdentityKeyPair
) -> None:
    number = safety_number(clara.public, theo.public)
    assert re.fullmatch(r"[0-9]{60}", number)
    shown = format_safety_number(number)
    assert re.fullmatch(r"[0-9]{5}( [0-9]{5}){11}", shown)
    assert shown.replace(" ", "") == number


def test_the_number_is_each_sides_digits_sorted(
    clara: IdentityKeyPair, theo: IdentityKeyPair
) -> None:
    def digits(fp: bytes) -> str:
        return "".join(
            f"{int.from_bytes(fp[5 * i : 5 * i + 5], 'big') % 100000:05d}" for i in range(6)
        )

    halves = sorted([digits(clara.public.fingerprint()), digits(theo.public.fingerprint())])
    assert safety_number(clara.public, theo.public) == "".join(halves)


@pytest.mark.parametrize("change", [with_new_enc_key, with_new_sign_key])
@pytest.mark.parametrize("side", ["client", "therapist"])
def test_the_number_changes_when_any_key_of_either_side_changes(
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    change: Callable[[IdentityKeyPair], PublicIdentity],
    side: str,
) -> None:
    before = safety_number(clara.public, theo.public)
    payload = safety_qr_payload(clara.public, theo.public)
    if side == "client":
        a, b = change(clara), theo.public
    else:
        a, b = clara.public, change(theo)
    assert safety_number(a, b) != before
    with pytest.raises(BindingError, match="does not match these two identities"):
        verify_safety_qr(payload, a, b)


def test_a_payload_for_another_pair_is_refused(
    clara: IdentityKeyPair, theo: IdentityKeyPair, olive: IdentityKeyPair
) -> None:
    payload = safety_qr_payload(clara.public, olive.public)
    with pytest.raises(BindingError):
        verify_safety_qr(payload, clara.public, theo.public)


def test_the_qr_payload_is_version_then_the_sorted_fingerprints(
    clara: IdentityKeyPair, theo: IdentityKeyPair
) -> None:
    payload = safety_qr_payload(clara.public, theo.public)
    fps = sorted([clara.public.fingerprint(), theo.public.fingerprint()])
    assert payload == b"\x01" + fps[0] + fps[1]
    assert len(payload) == 65


@pytest.mark.parametrize("number", ["1" * 59, "1" * 61, "x" * 60, "\u0661" * 60])
def test_only_60_ascii_digits_can_be_formatted(number: str) -> None:
    with pytest.raises(FormatError, match="^A safety number is exactly 60 digits$"):
        format_safety_number(number)
