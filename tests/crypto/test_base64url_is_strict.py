"""The transport encoding is unpadded base64url, and each byte string has one spelling."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import FormatError, b64decode, b64encode


@settings(max_examples=200, database=None)
@given(st.binary(max_size=300))
def test_any_bytes_round_trip_without_padding(data: bytes) -> None:
    text = b64encode(data)
    assert "=" not in text
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64decode(text) == data


@settings(max_examples=300, database=None)
@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n",
        max_size=12,
    )
)
def test_decoding_accepts_only_the_canonical_spelling(text: str) -> None:
    try:
        data = b64decode(text)
    except FormatError:
        return
    assert b64encode(data) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AA==", "must not be padded"),
        ("AA A", "' ' at position 2, which is not in the URL-safe alphabet"),
        ("AA\tA", "'\\\\t' at position 2"),
        ("+w", "'\\+' at position 0"),
        ("_/8", "'/' at position 1"),
        ("A\u00e9", "'\u00e9' at position 1"),
        ("AAAAA", "impossible length of 5 characters"),
        ("AB", "not canonical"),
        ("AAB", "not canonical"),
    ],
)
def test_every_kind_of_bad_input_is_named(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        b64decode(text)


def test_only_strings_decode_and_only_bytes_encode() -> None:
    with pytest.raises(FormatError, match="must be a str, not bytes"):
        b64decode(b"AA")  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="must be bytes, not str"):
        b64encode("AA")  # type: ignore[arg-type]
