"""Helpers for fixed-layout binary formats: argument checks, ids, ``u32`` and a reader."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TypeVar

from .errors import FormatError, UnsupportedVersionError

T = TypeVar("T")

ID_SIZE = 16
U32_MAX = 2**32 - 1
# The largest integer every implementation holds exactly (a JavaScript number is a double).
MAX_SAFE_INTEGER = 2**53 - 1


def require_bytes(value: object, what: str) -> bytes:
    """Return ``value`` as ``bytes``; raise :class:`FormatError` if it is not bytes-like."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise FormatError(f"{what} must be bytes, not {type(value).__name__}")


def require_type(value: object, cls: type[T], what: str) -> T:
    """Return ``value`` if it is an instance of ``cls``; raise FormatError otherwise."""
    if not isinstance(value, cls):
        raise FormatError(f"{what} must be a {cls.__name__}, not {type(value).__name__}")
    return value


def require_length(value: object, size: int, what: str) -> bytes:
    """Return ``value`` as ``bytes`` of exactly ``size`` bytes, else raise FormatError."""
    data = require_bytes(value, what)
    if len(data) != size:
        raise FormatError(f"{what} must be exactly {size} bytes long (got {len(data)})")
    return data


def coerce_id(value: object, what: str) -> bytes:
    """A 16-byte id from a :class:`uuid.UUID` or 16 bytes; raise FormatError otherwise."""
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if len(data) != ID_SIZE:
            raise FormatError(
                f"{what} must be a UUID or exactly {ID_SIZE} bytes long (got {len(data)})"
            )
        return data
    raise FormatError(f"{what} must be a UUID or 16 bytes, not {type(value).__name__}")


def check_epoch(epoch: object) -> int:
    """Return ``epoch`` if it is an int in ``0 .. 2^32-1``; raise FormatError otherwise."""
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= U32_MAX:
        raise FormatError(f"The epoch must be an integer from 0 to {U32_MAX}, not {epoch!r}")
    return epoch


def u32(value: int) -> bytes:
    """``u32(x)``: 4 bytes, big-endian unsigned."""
    return value.to_bytes(4, "big")


def u64(value: int) -> bytes:
    """``u64(x)``: 8 bytes, big-endian unsigned."""
    return value.to_bytes(8, "big")


def check_version(data: bytes, version: int | Collection[int], what: str) -> int:
    """Raise FormatError if ``data`` is empty, UnsupportedVersionError if byte 0 is not
    ``version`` (or one of ``version``, for a format with several); return byte 0."""
    if not data:
        raise FormatError(f"The {what} is empty")
    known = (version,) if isinstance(version, int) else version
    if data[0] not in known:
        raise UnsupportedVersionError(f"Unsupported {what} format version 0x{data[0]:02x}")
    return data[0]


class Reader:
    """Consumes a byte string field by field; the caller has already checked its length."""

    __slots__ = ("_data", "_offset")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def take(self, size: int) -> bytes:
        """The next ``size`` bytes."""
        field = self._data[self._offset : self._offset + size]
        if len(field) != size:
            raise FormatError("The input is truncated")
        self._offset += size
        return field

    def take_u32(self) -> int:
        """The next 4 bytes as a big-endian unsigned integer."""
        return int.from_bytes(self.take(4), "big")

    def take_u64(self) -> int:
        """The next 8 bytes as a big-endian unsigned integer."""
        return int.from_bytes(self.take(8), "big")

    def rest(self) -> bytes:
        """Everything not yet consumed."""
        field = self._data[self._offset :]
        self._offset = len(self._data)
        return field
