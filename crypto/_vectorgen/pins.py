"""Vectors for pin records (crypto/pins.py)."""

from __future__ import annotations

from typing import Any

from .. import _labels
from .._primitives import aead_encrypt, h
from ..errors import (
    BindingError,
    DecryptionError,
    FormatError,
    UnsupportedVersionError,
)
from ..pins import Pin, seal_pins
from .common import JsonObject, document, fails, flip, identity_secret, ok, persona, replace
from .rng import deterministic_random

AT = 1_796_479_200  # 2026-12-05 14:00:00 UTC, in seconds


def _pin_json(pin: Pin) -> JsonObject:
    return {
        "user_id": pin.user_id,
        "fingerprint": pin.fingerprint.hex(),
        "verified": pin.verified,
        "at": pin.at,
    }


def pins_file() -> str:
    client = persona("client")
    therapist = persona("therapist")
    other = persona("other-therapist")
    pins = [
        Pin(7, therapist.public.fingerprint(), True, AT),
        Pin(12, other.public.fingerprint(), False, AT + 60),
    ]
    with deterministic_random("pins/seal") as rng:
        record = seal_pins(client, 3, pins)
    key = h(identity_secret(client), _labels.PINS)
    seal_inputs: JsonObject = {
        "secret": identity_secret(client).hex(),
        "counter": 3,
        "pins": [_pin_json(pin) for pin in reversed(pins)],
        "random": [value.hex() for value in rng.drawn],
    }
    with deterministic_random("pins/empty") as rng_empty:
        empty = seal_pins(client, 1, [])
    with deterministic_random("pins/other"):
        others_record = seal_pins(other, 3, pins)

    def open_inputs(data: bytes, secret: bytes | None = None) -> JsonObject:
        return {"record": data.hex(), "secret": (secret or identity_secret(client)).hex()}

    def forged(body: bytes, counter: int = 3) -> bytes:
        """A record with an arbitrary body, properly sealed under the client's key."""
        header = b"\x01" + client.sign_key + counter.to_bytes(8, "big")
        nonce = bytes(range(24))
        return header + nonce + aead_encrypt(key, nonce, body, _labels.PINS + header)

    def entry(user_id: int, state: int = 1) -> bytes:
        return user_id.to_bytes(8, "big") + bytes(32) + bytes([state]) + AT.to_bytes(8, "big")

    vectors: list[JsonObject] = [
        ok(
            "seal",
            "The client's record, counter 3: the therapist (user 7) verified, another "
            "therapist (user 12) seen. Pins are given in any order and sealed by user id. "
            "'random' is the nonce.",
            "seal",
            seal_inputs,
            {"pins_key": key.hex(), "record": record.hex()},
        ),
        ok(
            "seal-empty",
            "A first record with no pins yet.",
            "seal",
            {**seal_inputs, "counter": 1, "pins": [], "random": [v.hex() for v in rng_empty.drawn]},
            {"pins_key": key.hex(), "record": empty.hex()},
        ),
        ok(
            "open",
            "The client opens their record.",
            "open",
            open_inputs(record),
            {"counter": 3, "pins": [_pin_json(pin) for pin in pins]},
        ),
        ok(
            "parse",
            "The server reads whose record it is and its counter, holding no key.",
            "parse",
            {"record": record.hex()},
            {"sign_pk": client.sign_key.hex(), "counter": 3},
        ),
    ]
    failures: list[tuple[str, str, Any, type[Exception]]] = [
        (
            "open-another-identity",
            "The therapist tries to open the client's record.",
            open_inputs(record, identity_secret(therapist)),
            BindingError,
        ),
        ("open-empty", "Empty input.", open_inputs(b""), FormatError),
        (
            "open-unknown-version",
            "Version 0x02.",
            open_inputs(replace(record, 0, b"\x02")),
            UnsupportedVersionError,
        ),
        ("open-truncated", "One byte short.", open_inputs(record[:-1]), FormatError),
        (
            "open-flipped-counter",
            "The counter changed (a record served again as newer): it is in the associated data.",
            open_inputs(flip(record, 40)),
            DecryptionError,
        ),
        (
            "open-counter-zero",
            "Counter 0.",
            open_inputs(replace(record, 33, bytes(8))),
            FormatError,
        ),
        (
            "open-flipped-nonce",
            "A nonce byte flipped.",
            open_inputs(flip(record, 50)),
            DecryptionError,
        ),
        (
            "open-flipped-ciphertext",
            "A ciphertext byte flipped.",
            open_inputs(flip(record, 80)),
            DecryptionError,
        ),
        (
            "open-flipped-tag",
            "A tag byte flipped.",
            open_inputs(flip(record, len(record) - 1)),
            DecryptionError,
        ),
        (
            "open-another-identitys-record-relabelled",
            "The other therapist's own record with "
            "the client's key in its header: it opens under no key the client has.",
            open_inputs(replace(others_record, 1, client.sign_key)),
            DecryptionError,
        ),
        (
            "open-bad-state",
            "Sealed by the client, a pin with state 3.",
            open_inputs(forged((1).to_bytes(4, "big") + entry(7, 3))),
            FormatError,
        ),
        (
            "open-out-of-order",
            "Sealed by the client, pins not in increasing user-id order.",
            open_inputs(forged((2).to_bytes(4, "big") + entry(9) + entry(7))),
            FormatError,
        ),
        (
            "open-duplicate-user",
            "Sealed by the client, two pins of user 7.",
            open_inputs(forged((2).to_bytes(4, "big") + entry(7) + entry(7))),
            FormatError,
        ),
        (
            "open-wrong-count",
            "Sealed by the client, a count of 3 over two pins.",
            open_inputs(forged((3).to_bytes(4, "big") + entry(7) + entry(8))),
            FormatError,
        ),
        (
            "open-user-zero",
            "Sealed by the client, a pin of user 0.",
            open_inputs(forged((1).to_bytes(4, "big") + entry(0))),
            FormatError,
        ),
    ]
    for name, comment, inputs, error in failures:
        vectors.append(fails(name, comment, "open", inputs, error))  # type: ignore[arg-type]
    for name, comment, changes in (
        ("seal-counter-zero", "Counter 0: counters start at 1.", {"counter": 0}),
        ("seal-counter-above-2-53", "Counter 2^53.", {"counter": 2**53}),
        ("seal-counter-boolean", "A boolean is not a counter.", {"counter": True}),
        (
            "seal-two-pins-of-one-user",
            "Two pins of user 7.",
            {"pins": [_pin_json(pins[0]), {**_pin_json(pins[1]), "user_id": 7}]},
        ),
        (
            "seal-short-fingerprint",
            "A 31-byte fingerprint.",
            {"pins": [{**_pin_json(pins[0]), "fingerprint": bytes(31).hex()}]},
        ),
        (
            "seal-verified-not-boolean",
            "verified must be a boolean.",
            {"pins": [{**_pin_json(pins[0]), "verified": 1}]},
        ),
        (
            "seal-user-zero",
            "User ids start at 1.",
            {"pins": [{**_pin_json(pins[0]), "user_id": 0}]},
        ),
    ):
        vectors.append(
            fails(
                name,
                comment + " Nothing is drawn.",
                "seal",
                {**seal_inputs, **changes, "random": []},
                FormatError,
            )
        )
    vectors += [
        fails("parse-empty", "Empty input.", "parse", {"record": ""}, FormatError),
        fails(
            "parse-between-sizes",
            "A length that holds no whole number of pins.",
            "parse",
            {"record": (record + b"\x00").hex()},
            FormatError,
        ),
    ]
    return document(
        "Pin records: header = 0x01 || sign_pk || u64(counter); body = u32(n) || n x "
        "(u64(user_id) || fingerprint(32) || state(1: seen, 2: verified) || u64(at)), by user "
        "id; record = header || nonce(24) || AEAD(H(sign_seed || enc_sk, 'confide/v1/pins'), "
        "nonce, body, 'confide/v1/pins' || header). 'open' and 'seal' take the owner's secret.",
        vectors,
    )
