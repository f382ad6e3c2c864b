"""Length-hiding padding to power-of-two buckets.

::

    padded = u32(len(data)) || data || zero bytes, to the smallest bucket 2^k (8 <= k <= 20)
             with 4 + len(data) <= 2^k

So the server learns a message's size only to within a power of two (256 B to 1 MiB).
"""

from __future__ import annotations

from ._fields import require_bytes, u32
from .errors import FormatError

__all__ = ["BUCKETS", "MAX_PLAINTEXT", "MAX_PADDED", "MIN_PADDED", "pad", "padded_size", "unpad"]

MIN_PADDED = 2**8
MAX_PADDED = 2**20
BUCKETS: tuple[int, ...] = tuple(2**k for k in range(8, 21))
LENGTH_PREFIX = 4
MAX_PLAINTEXT = MAX_PADDED - LENGTH_PREFIX  # 1048572


def padded_size(length: int) -> int:
    """The bucket that a plaintext of ``length`` bytes pads to.

    Raises :class:`FormatError` if ``length`` is not an integer (a bool or a float is not
    one), is negative, or is above ``MAX_PLAINTEXT``.
    """
    if isinstance(length, bool) or not isinstance(length, int):
        raise FormatError(f"A plaintext length must be an integer, not {length!r}")
    if length < 0:
        raise FormatError(f"A plaintext length cannot be negative ({length})")
    for bucket in BUCKETS:
        if LENGTH_PREFIX + length <= bucket:
            return bucket
    raise FormatError(
        f"The plaintext is {length} bytes long; at most {MAX_PLAINTEXT} bytes fit in a message"
    )


def pad(data: bytes) -> bytes:
    """Pad ``data`` to its bucket; raises :class:`FormatError` if it is too long."""
    raw = require_bytes(data, "The plaintext")
    bucket = padded_size(len(raw))
    return u32(len(raw)) + raw + bytes(bucket - LENGTH_PREFIX - len(raw))


def unpad(padded: bytes) -> bytes:
    """Remove padding added by :func:`pad`.

    Raises :class:`FormatError` if the size is not a bucket, the declared length does not
    fit in the buffer, or any padding byte is not zero (each is a non-conforming sender).
    """
    raw = require_bytes(padded, "The padded plaintext")
    if len(raw) not in BUCKETS:
        raise FormatError(
            f"The padded plaintext is {len(raw)} bytes long, which is not a padding bucket "
            f"(a power of two from {MIN_PADDED} to {MAX_PADDED})"
        )
    length = int.from_bytes(raw[:LENGTH_PREFIX], "big")
    room = len(raw) - LENGTH_PREFIX
    if length > room:
        raise FormatError(
            f"The padded plaintext declares {length} bytes of data but has room for {room}"
        )
    end = LENGTH_PREFIX + length
    if raw[end:] != bytes(len(raw) - end):
        raise FormatError("The padding after the plaintext is not all zero bytes")
    return raw[LENGTH_PREFIX:end]
