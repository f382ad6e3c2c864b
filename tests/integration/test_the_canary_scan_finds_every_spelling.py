"""The canary's scan finds a secret however the server side might have written it: raw,
hex, base64 or base64url at any alignment inside a longer blob, or escaped as redis-cli
MONITOR prints binary; so a clean scan means the secret is not there."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

import pytest

from tests.integration.canary import leaks, redis_repr

SECRET = secrets.token_bytes(32)


@pytest.mark.parametrize("prefix", [b"", b"x", b"xy", b"xyz"])
@pytest.mark.parametrize(
    "encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["base64", "base64url"]
)
def test_base64_inside_a_longer_blob_is_found_at_every_alignment(
    prefix: bytes, encode: Callable[[bytes], bytes]
) -> None:
    blob = encode(prefix + SECRET + b"trailing bytes")
    assert leaks(b"column=" + blob + b";", {"key": SECRET}) == ["key"]


@pytest.mark.parametrize(
    "written",
    [
        SECRET,
        b"\\x" + SECRET.hex().encode(),  # pg_dump bytea
        b"X'" + SECRET.hex().upper().encode() + b"'",  # SQLite dump blob
        b'"' + redis_repr(SECRET) + b'"',  # redis-cli MONITOR argument
    ],
    ids=["raw", "hex", "HEX", "redis"],
)
def test_raw_hex_and_escaped_forms_are_found(written: bytes) -> None:
    assert leaks(b"before " + written + b" after", {"key": SECRET}) == ["key"]


def test_text_secrets_are_found_as_text_and_encoded() -> None:
    password = "correct horse battery staple"
    for form in (password.encode(), password.encode().hex().encode()):
        assert leaks(form, {"password": password}) == ["password"]


def test_a_clean_haystack_reports_nothing() -> None:
    assert leaks(secrets.token_bytes(4096), {"key": SECRET, "text": "CANARY-abc"}) == []
