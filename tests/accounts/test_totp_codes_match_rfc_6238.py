"""The codes the server computes are those of RFC 6238's own test vectors (Appendix B,
HMAC-SHA-1), and the sealed secret opens only under the server's keys."""

from __future__ import annotations

import base64

import pyotp
import pytest
from django.test import override_settings

from accounts.factors import totp

# RFC 6238, Appendix B: the SHA-1 seed, and (time, 8-digit TOTP) pairs.
SEED = b"12345678901234567890"
VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("at", "expected"), VECTORS)
def test_the_rfc_6238_vectors(at: int, expected: str) -> None:
    secret = base64.b32encode(SEED).decode()
    step = totp.current_step(at)

    assert pyotp.TOTP(secret, digits=8).generate_otp(step) == expected
    # The server's six digits are the last six of the same value (RFC 4226's truncation).
    assert totp.code_at(SEED, step) == expected[-6:]


def test_a_sealed_secret_opens_with_the_key_and_its_fallbacks_only() -> None:
    sealed = totp._seal(SEED)

    assert SEED not in sealed
    assert totp._unseal(sealed) == SEED
    new_key = "n" * 25 + "e" * 25 + "w" * 10
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[]):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            totp._unseal(sealed)
    with override_settings(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[_current_key()]):
        assert totp._unseal(sealed) == SEED


def _current_key() -> str:
    from django.conf import settings

    key: str = settings.SECRET_KEY
    return key
