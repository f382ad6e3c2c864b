"""The Web Push encryption against RFC 8291's own example (section 5): pywebpush, given
the example's sender key and salt, writes its body byte for byte, and the tests' push
service decrypts that body with the user agent's key to the example's plaintext."""

from __future__ import annotations

import base64
from typing import Any

import http_ece
import pytest
import pywebpush
from cryptography.hazmat.primitives.asymmetric import ec

PLAINTEXT = b"When I grow up, I want to be a watermelon"
AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
UA_PUBLIC = (
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
)
UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
SALT = "DGv6ra1nlYgDCS1FRnbzlw"
BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
    "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
    "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def private_key(raw: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(unb64url(raw), "big"), ec.SECP256R1())


def test_pywebpush_writes_the_examples_body_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    # The two random inputs of the encryption, fixed to the example's.
    monkeypatch.setattr(pywebpush.ec, "generate_private_key", lambda *_: private_key(AS_PRIVATE))
    monkeypatch.setattr(http_ece.os, "urandom", lambda n: unb64url(SALT)[:n])
    subscription: dict[str, Any] = {
        "endpoint": "https://push.example.net/x",
        "keys": {"p256dh": UA_PUBLIC, "auth": AUTH},
    }

    body = pywebpush.WebPusher(subscription).encode(PLAINTEXT, "aes128gcm")["body"]

    assert body == unb64url(BODY)


def test_the_test_push_service_decrypts_the_examples_body() -> None:
    plaintext = http_ece.decrypt(
        unb64url(BODY),
        private_key=private_key(UA_PRIVATE),
        auth_secret=unb64url(AUTH),
        version="aes128gcm",
    )

    assert plaintext == PLAINTEXT


# The salt, the sender's key, the ciphertext, the tag. (The record size is not bound by the
# encryption: a single record reads the same under any size that holds it.)
@pytest.mark.parametrize("where", [0, 21, 90, len(unb64url(BODY)) - 1])
def test_a_body_changed_in_any_bound_part_does_not_decrypt(where: int) -> None:
    tampered = bytearray(unb64url(BODY))
    tampered[where] ^= 0x01

    with pytest.raises(Exception):  # noqa: B017 (http_ece raises several kinds)
        http_ece.decrypt(
            bytes(tampered),
            private_key=private_key(UA_PRIVATE),
            auth_secret=unb64url(AUTH),
            version="aes128gcm",
        )
