"""Shared helpers for building vector files."""

from __future__ import annotations

import json
from typing import Any

from ..errors import CryptoError, FormatError
from ..identity import IdentityKeyPair
from .rng import deterministic_random

JsonObject = dict[str, Any]

ENCODING_NOTE = (
    "Byte strings are lowercase hex. Fields ending in _text are Unicode strings, fields "
    "ending in _b64 are base64url without padding, integers, numbers and booleans are JSON "
    "values. A field ending in _float is a number JSON cannot write, 'NaN', 'Infinity' or "
    "'-Infinity', given to the input named without the suffix. An error vector may give an "
    "input of the wrong type on purpose. 'random' lists, in order, the random byte strings "
    "the operation draws (see SPEC.md, Test vectors)."
)

# Fixed ids used across the files: a conversation, another one, two client message ids.
CONVERSATION_ID = bytes.fromhex("6f1c7a3e2d5b4c8e9a0b1c2d3e4f5a6b")
OTHER_CONVERSATION_ID = bytes.fromhex("0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a")
MESSAGE_ID = bytes.fromhex("a1b2c3d4e5f60718293a4b5c6d7e8f90")
OTHER_MESSAGE_ID = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")

# X25519 low-order points: u = 0 (order 2) and u = 1 (order 4).
LOW_ORDER_POINTS = {
    "zero": bytes(32),
    "one": b"\x01" + bytes(31),
}


# Out-of-range and wrongly typed epochs, as every operation that takes one must refuse them.
BAD_EPOCHS: tuple[tuple[str, str, object], ...] = (
    ("epoch-negative", "Epoch -1 is below the u32 range.", -1),
    ("epoch-above-u32", "Epoch 2^32 is above the u32 range.", 2**32),
    ("epoch-not-whole", "Epoch 7.5 is not an integer.", 7.5),
    ("epoch-boolean", "A boolean is not an epoch, though some languages count it as 1.", True),
    ("epoch-text", "The text '7' is not an epoch.", "7"),
)

NO_DRAW = " The arguments are checked before any randomness is drawn, so 'random' is empty."


def bad_epoch_vectors(prefix: str, operation: str, base: JsonObject) -> list[JsonObject]:
    """One FormatError vector per entry of ``BAD_EPOCHS``, ``base`` with the epoch changed.

    For an operation that draws randomness, ``base`` holds an empty ``random``.
    """
    note = NO_DRAW if "random" in base else ""
    return [
        fails(f"{prefix}-{name}", comment + note, operation, {**base, "epoch": epoch}, FormatError)
        for name, comment, epoch in BAD_EPOCHS
    ]


def persona(name: str) -> IdentityKeyPair:
    """A fixed identity: 'client', 'therapist', 'other-therapist', 'other-client'."""
    with deterministic_random(f"persona/{name}"):
        return IdentityKeyPair.generate(since=None)


# When the version-2 personas hold their X-Wing keys from: 2026-12-01 00:00 UTC.
PERSONA_SINCE = 1_796_083_200_000


def persona_v2(name: str) -> IdentityKeyPair:
    """The persona ``name`` with its version-2 public identity (since PERSONA_SINCE)."""
    return persona(name).upgraded(PERSONA_SINCE)


def identity_secret(identity: IdentityKeyPair) -> bytes:
    """The 64-byte private form ``sign_seed || enc_sk`` of a persona."""
    return identity._secret_material()


def flip(data: bytes, offset: int) -> bytes:
    """``data`` with the byte at ``offset`` XORed with 0x01."""
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def replace(data: bytes, offset: int, new: bytes) -> bytes:
    """``data`` with ``new`` written at ``offset``."""
    return data[:offset] + new + data[offset + len(new) :]


def ok(
    name: str, comment: str, operation: str, inputs: JsonObject, expected: JsonObject
) -> JsonObject:
    """A vector that must succeed with exactly ``expected``."""
    return {
        "name": name,
        "comment": comment,
        "operation": operation,
        "inputs": inputs,
        "expected": expected,
    }


def fails(
    name: str, comment: str, operation: str, inputs: JsonObject, error: type[CryptoError]
) -> JsonObject:
    """A vector that must fail with exactly the error class ``error``."""
    return {
        "name": name,
        "comment": comment,
        "operation": operation,
        "inputs": inputs,
        "error": error.__name__,
    }


def document(description: str, vectors: list[JsonObject]) -> str:
    """The text of one vector file; deterministic byte for byte."""
    names = [vector["name"] for vector in vectors]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CryptoError(f"Duplicate vector names: {duplicates}")
    body = {"description": description, "encoding": ENCODING_NOTE, "vectors": vectors}
    return json.dumps(body, indent=2, ensure_ascii=True) + "\n"
