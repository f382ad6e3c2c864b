"""Pins: a person's record of the peer identities they have seen and verified, kept by the
server but readable and writable only with their own identity (crypto/SPEC.md, "Pins").

::

    pins_key = H(sign_seed || enc_sk, "confide/v1/pins")
    header   = 0x01 || sign_pk(32) || u64(counter)
    body     = u32(n) || n entries, by user id: u64(user_id) || fingerprint(32) || state(1)
               || u64(at)
    record   = header || nonce(24) || AEAD(pins_key, nonce, body, "confide/v1/pins" || header)

``state`` is 1 (seen) or 2 (verified: the two compared safety numbers). The counter goes
up by one with each record written, so that a client that has seen counter ``c`` knows a
record below ``c`` is an old one served again.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Iterable

from . import _labels
from ._fields import MAX_SAFE_INTEGER, Reader, check_version, require_bytes, require_type, u64
from ._primitives import (
    HASH_SIZE,
    NONCE_SIZE,
    PUBLIC_KEY_SIZE,
    TAG_SIZE,
    aead_decrypt,
    aead_encrypt,
    h,
    new_nonce,
)
from .errors import BindingError, FormatError
from .identity import IdentityKeyPair

__all__ = [
    "MAX_PINS",
    "PINS_VERSION",
    "Pin",
    "PinRecord",
    "PinsInfo",
    "open_pins",
    "parse_pins",
    "seal_pins",
]

PINS_VERSION = 0x01
MAX_PINS = 4096
SEEN, VERIFIED = 1, 2
_HEADER_SIZE = 1 + PUBLIC_KEY_SIZE + 8  # 41
_ENTRY_SIZE = 8 + HASH_SIZE + 1 + 8  # 49
_MIN_SIZE = _HEADER_SIZE + NONCE_SIZE + 4 + TAG_SIZE  # 85
MAX_PINS_SIZE = _MIN_SIZE + MAX_PINS * _ENTRY_SIZE


def _check_integer(value: object, what: str, low: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= MAX_SAFE_INTEGER
    ):
        raise FormatError(f"{what} must be an integer from {low} to 2^53 - 1, not {value!r}")
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Pin:
    """One peer as this person has seen them: the fingerprint of the identity seen, whether
    they verified it (compared the safety number in person), and when (seconds since
    1970, by the person's clock) the pin was last set."""

    user_id: int
    fingerprint: bytes
    verified: bool
    at: int

    def __post_init__(self) -> None:
        _check_integer(self.user_id, "A pinned user id", 1)
        if not isinstance(self.fingerprint, bytes) or len(self.fingerprint) != HASH_SIZE:
            raise FormatError("A pinned fingerprint must be 32 bytes")
        if not isinstance(self.verified, bool):
            raise FormatError(f"verified must be True or False, not {self.verified!r}")
        _check_integer(self.at, "A pin's time", 0)


@dataclasses.dataclass(frozen=True, slots=True)
class PinRecord:
    """An opened record: its counter and its pins, by user id."""

    counter: int
    pins: tuple[Pin, ...]

    def get(self, user_id: int) -> Pin | None:
        """The pin of one peer, or None."""
        return next((pin for pin in self.pins if pin.user_id == user_id), None)


@dataclasses.dataclass(frozen=True, slots=True)
class PinsInfo:
    """A record's public header: whose it is and its counter (for the server)."""

    sign_pk: bytes
    counter: int


def _key(identity: IdentityKeyPair) -> bytes:
    return h(identity._secret_material(), _labels.PINS)


def _header(sign_pk: bytes, counter: int) -> bytes:
    return bytes([PINS_VERSION]) + sign_pk + u64(counter)


def seal_pins(identity: IdentityKeyPair, counter: int, pins: Iterable[Pin]) -> bytes:
    """The record of ``pins`` under counter ``counter`` (1 to 2^53 - 1), sealed so that only
    ``identity`` can open or make it. Raises :class:`FormatError` for a counter out of
    range, a pin of the wrong type, two pins of one user, or more than ``MAX_PINS``."""
    identity = require_type(identity, IdentityKeyPair, "The identity")
    counter = _check_integer(counter, "The counter", 1)
    listed = sorted((require_type(pin, Pin, "A pin") for pin in pins), key=lambda pin: pin.user_id)
    if len({pin.user_id for pin in listed}) != len(listed):
        raise FormatError("Two pins name the same user")
    if len(listed) > MAX_PINS:
        raise FormatError(f"A record holds at most {MAX_PINS} pins, not {len(listed)}")
    body = len(listed).to_bytes(4, "big") + b"".join(
        u64(pin.user_id)
        + pin.fingerprint
        + bytes([VERIFIED if pin.verified else SEEN])
        + u64(pin.at)
        for pin in listed
    )
    header = _header(identity.sign_key, counter)
    nonce = new_nonce()
    return header + nonce + aead_encrypt(_key(identity), nonce, body, _labels.PINS + header)


def parse_pins(record: bytes) -> PinsInfo:
    """Check a record's shape and read its header, without any key (for the server):
    :class:`UnsupportedVersionError` for another version, :class:`FormatError` for a
    length that cannot hold a body or a counter out of range."""
    data = require_bytes(record, "A pin record")
    check_version(data, PINS_VERSION, "pin record")
    if not _MIN_SIZE <= len(data) <= MAX_PINS_SIZE or (len(data) - _MIN_SIZE) % _ENTRY_SIZE:
        raise FormatError(
            f"A pin record is {_MIN_SIZE} bytes and {_ENTRY_SIZE} more per pin, up to "
            f"{MAX_PINS} pins; this one is {len(data)} bytes long"
        )
    reader = Reader(data)
    reader.take(1)
    sign_pk = reader.take(PUBLIC_KEY_SIZE)
    counter = reader.take_u64()
    return PinsInfo(sign_pk, _check_integer(counter, "The counter", 1))


def open_pins(record: bytes, identity: IdentityKeyPair) -> PinRecord:
    """Open a record with the person's own identity. Checks, in this order: the shape
    (:func:`parse_pins`); that it is this identity's (:class:`BindingError`); decryption
    (:class:`DecryptionError`: altered, or made with another key); the body: its count,
    pins in increasing user-id order, states 1 or 2, numbers in range
    (:class:`FormatError`)."""
    info = parse_pins(record)
    identity = require_type(identity, IdentityKeyPair, "The identity")
    if not hmac.compare_digest(info.sign_pk, identity.sign_key):
        raise BindingError("The pin record belongs to another identity")
    header = record[:_HEADER_SIZE]
    nonce = record[_HEADER_SIZE : _HEADER_SIZE + NONCE_SIZE]
    body = aead_decrypt(
        _key(identity),
        nonce,
        record[_HEADER_SIZE + NONCE_SIZE :],
        _labels.PINS + header,
        "The pin record could not be decrypted: it was altered or not made by this identity",
    )
    reader = Reader(body)
    count = int.from_bytes(reader.take(4), "big")
    if len(body) != 4 + count * _ENTRY_SIZE:
        raise FormatError(f"The pin record says {count} pins but holds another number")
    pins: list[Pin] = []
    for _ in range(count):
        user_id = reader.take_u64()
        fingerprint = reader.take(HASH_SIZE)
        state = reader.take(1)[0]
        at = reader.take_u64()
        if state not in (SEEN, VERIFIED):
            raise FormatError(f"A pin's state must be 1 or 2, not {state}")
        if pins and user_id <= pins[-1].user_id:
            raise FormatError("The pins are not in increasing user-id order")
        pins.append(Pin(user_id, fingerprint, state == VERIFIED, at))
    return PinRecord(info.counter, tuple(pins))
