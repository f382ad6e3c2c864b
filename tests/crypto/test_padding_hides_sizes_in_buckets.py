"""Padding rounds every plaintext up to a power-of-two bucket and is strictly checked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import MAX_PLAINTEXT, FormatError, pad, padded_size, unpad


@settings(max_examples=300, database=None)
@given(st.integers(0, MAX_PLAINTEXT))
def test_the_bucket_is_the_smallest_power_of_two_that_fits(length: int) -> None:
    bucket = padded_size(length)
    assert bucket & (bucket - 1) == 0
    assert 256 <= bucket <= 2**20
    assert length + 4 <= bucket
    assert bucket == 256 or length + 4 > bucket // 2


@settings(max_examples=100, database=None)
@given(st.binary(max_size=3000))
def test_pad_then_unpad_is_the_identity(data: bytes) -> None:
    padded = pad(data)
    assert len(padded) == padded_size(len(data))
    assert padded[:4] == len(data).to_bytes(4, "big")
    assert unpad(padded) == data


@pytest.mark.parametrize(
    ("length", "bucket"),
    [(0, 256), (252, 256), (253, 512), (1020, 1024), (1021, 2048), (MAX_PLAINTEXT, 2**20)],
)
def test_bucket_edges(length: int, bucket: int) -> None:
    assert padded_size(length) == bucket


def test_too_long_or_negative_lengths_are_refused() -> None:
    with pytest.raises(FormatError, match="1048573 bytes long; at most 1048572"):
        padded_size(MAX_PLAINTEXT + 1)
    with pytest.raises(FormatError, match="cannot be negative"):
        padded_size(-1)


def test_a_declared_length_beyond_the_buffer_is_refused() -> None:
    padded = (300).to_bytes(4, "big") + bytes(252)
    with pytest.raises(FormatError, match="declares 300 bytes of data but has room for 252"):
        unpad(padded)


def test_non_zero_padding_is_refused() -> None:
    padded = bytearray(pad(b"abc"))
    padded[-1] = 1
    with pytest.raises(FormatError, match="not all zero"):
        unpad(bytes(padded))


@pytest.mark.parametrize("size", [0, 4, 255, 257, 384, 2**21])
def test_sizes_that_are_not_buckets_are_refused(size: int) -> None:
    with pytest.raises(FormatError, match="not a padding bucket"):
        unpad(bytes(size))
