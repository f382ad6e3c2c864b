"""Vectors for disclosure records."""

from __future__ import annotations

import datetime

from .. import _labels
from .._primitives import h
from ..conversation import ConversationKey
from ..disclosure import DisclosureDescription, _seal_encoded, seal_disclosure
from ..errors import (
    BindingError,
    CryptoError,
    DecryptionError,
    FormatError,
    SignatureError,
    UnsupportedVersionError,
)
from ..identity import IdentityKeyPair
from ..message import seal_message
from ..padding import pad
from .common import (
    CONVERSATION_ID,
    NO_DRAW,
    OTHER_CONVERSATION_ID,
    OTHER_MESSAGE_ID,
    JsonObject,
    bad_epoch_vectors,
    document,
    fails,
    flip,
    identity_secret,
    ok,
    persona,
    replace,
)
from .conversation import EPOCH, EPOCH_KEY
from .rng import deterministic_random

DISCLOSURE_ID = bytes.fromhex("5d1c0a7e9b3f4e21a8c6d0b2e4f60718")

SAMPLES: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "duty-to-protect",
        "A warning under the duty to protect, in ASCII.",
        {
            "disclosed_on": "2026-11-26",
            "legal_basis": "duty_to_protect",
            "recipient": "Officer J. Ruiz, Oakland Police Department",
            "information": "Name, address, and the threat stated in the session of 24 Nov.",
            "purpose": "Warn the named person and the police (Civil Code 43.92).",
        },
    ),
    (
        "escapes",
        'Quotes, a backslash, line feeds and text beyond ASCII: the only escapes are \\", '
        "\\\\ and \\n.",
        {
            "disclosed_on": "2026-02-28",
            "legal_basis": "client_authorised",
            "recipient": 'Dr. Zoë "Z" Álvarez',
            "information": "Diagnosis\nDates of treatment \U0001f4c5\nA path: C:\\records",
            "purpose": "Coordination of care, as the client asked in writing.",
        },
    ),
    (
        "next-bucket",
        "A description of more than 252 bytes: the 512-byte bucket.",
        {
            "disclosed_on": "2024-02-29",
            "legal_basis": "court_order",
            "recipient": "Superior Court of California, County of Alameda",
            "information": "Dates of attendance. " * 12,
            "purpose": "Compliance with the order of 20 Feb 2024, case 24-1234.",
        },
    ),
)


def description_of(fields: dict[str, str]) -> DisclosureDescription:
    return DisclosureDescription(
        datetime.date.fromisoformat(fields["disclosed_on"]),
        fields["legal_basis"],
        fields["recipient"],
        fields["information"],
        fields["purpose"],
    )


def _text_fields(fields: dict[str, object]) -> JsonObject:
    return {f"{name}_text": value for name, value in fields.items()}


def resign(record: bytes, signer: IdentityKeyPair, label: bytes = _labels.DISCLOSURE_SIG) -> bytes:
    """Replace the signature with ``signer``'s of the (altered) header and ct."""
    signed = record[:-64]
    return signed + signer._sign(label + signed)


def disclosure_file() -> str:
    client = persona("client")
    therapist = persona("therapist")
    key = ConversationKey(EPOCH_KEY)
    vectors: list[JsonObject] = []
    records: dict[str, bytes] = {}
    for name, comment, fields in SAMPLES:
        description = description_of(fields)
        with deterministic_random(f"disclosure/{name}") as rng:
            record = seal_disclosure(
                description, key, CONVERSATION_ID, EPOCH, therapist, DISCLOSURE_ID
            )
        records[name] = record
        vectors.append(
            ok(
                f"describe-{name}",
                comment + " The canonical JSON of the description.",
                "describe",
                _text_fields(dict(fields)),
                {"description": description.to_json().hex()},
            )
        )
        vectors.append(
            ok(
                f"seal-{name}",
                comment + " 'random' is the nonce.",
                "seal",
                {
                    "description": _text_fields(dict(fields)),
                    "epoch_key": EPOCH_KEY.hex(),
                    "conversation_id": CONVERSATION_ID.hex(),
                    "epoch": EPOCH,
                    "recorder_secret": identity_secret(therapist).hex(),
                    "disclosure_id": DISCLOSURE_ID.hex(),
                    "random": [value.hex() for value in rng.drawn],
                },
                {
                    "disclosure_key": h(EPOCH_KEY, _labels.DISCLOSURE_KEY).hex(),
                    "padded_size": len(pad(description.to_json())),
                    "record": record.hex(),
                },
            )
        )
        vectors.append(
            ok(
                f"open-{name}",
                "The client opens the therapist's record.",
                "open",
                _open_inputs(record, therapist, fields),
                {"description": _text_fields(dict(fields))},
            )
        )
    record = records["duty-to-protect"]
    fields = SAMPLES[0][2]

    def open_fails(
        name: str,
        comment: str,
        error: type[CryptoError],
        data: bytes,
        **changes: object,
    ) -> JsonObject:
        return fails(
            name, comment, "open", {**_open_inputs(data, therapist, fields), **changes}, error
        )

    vectors += [
        ok(
            "verify",
            "The server checks shape and signature and reads the header.",
            "verify",
            {"record": record.hex(), "recorder_identity": therapist.public.to_bytes().hex()},
            {
                "version": 1,
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "recorder_sign_pk": therapist.sign_key.hex(),
                "disclosure_id": DISCLOSURE_ID.hex(),
                "padded_size": len(record) - 173,
            },
        ),
        fails(
            "verify-client-as-recorder",
            "The server checks the record against the client's identity: not theirs.",
            "verify",
            {"record": record.hex(), "recorder_identity": client.public.to_bytes().hex()},
            SignatureError,
        ),
        open_fails(
            "wrong-key", "Another epoch key.", DecryptionError, record, epoch_key=bytes(32).hex()
        ),
        open_fails(
            "client-expected-as-recorder",
            "The client's identity expected as the recorder.",
            SignatureError,
            record,
            recorder_identity=client.public.to_bytes().hex(),
        ),
        open_fails(
            "wrong-conversation-expected",
            "Another conversation expected.",
            BindingError,
            record,
            conversation_id=OTHER_CONVERSATION_ID.hex(),
        ),
        open_fails(
            "wrong-epoch-expected", "Epoch 8 expected.", BindingError, record, epoch=EPOCH + 1
        ),
        open_fails(
            "wrong-disclosure-id-expected",
            "Another disclosure id expected.",
            BindingError,
            record,
            disclosure_id=OTHER_MESSAGE_ID.hex(),
        ),
        open_fails(
            "served-date-differs",
            "The server gave another date than the sealed one.",
            BindingError,
            record,
            disclosed_on_text="2026-11-25",
        ),
        open_fails(
            "served-basis-differs",
            "The server gave another legal basis than the sealed one.",
            BindingError,
            record,
            legal_basis_text="client_authorised",
        ),
        open_fails("empty", "Empty input.", FormatError, b""),
        open_fails("truncated", "One byte short.", FormatError, record[:-1]),
        open_fails("over-long", "One extra byte.", FormatError, record + b"\x00"),
        open_fails(
            "unknown-version",
            "Version 0x02 (a version-2 message's).",
            UnsupportedVersionError,
            replace(record, 0, b"\x02"),
        ),
        open_fails(
            "expected-date-not-a-day",
            "The server's date is 2026-02-30.",
            FormatError,
            record,
            disclosed_on_text="2026-02-30",
        ),
        open_fails(
            "expected-basis-unknown",
            "The server's legal basis is not one of the five.",
            FormatError,
            record,
            legal_basis_text="curiosity",
        ),
    ]
    vectors += bad_epoch_vectors("open", "open", _open_inputs(record, therapist, fields))
    with deterministic_random("disclosure/by-client"):
        by_client = seal_disclosure(
            description_of(fields), key, CONVERSATION_ID, EPOCH, client, DISCLOSURE_ID
        )
    vectors.append(
        open_fails(
            "signed-by-client",
            "Sealed and signed by the client, who holds the epoch key: the therapist expected.",
            SignatureError,
            by_client,
        )
    )
    ct_end = len(record) - 64 - 16
    regions = (
        ("version", 0),
        ("conversation-id", 1),
        ("epoch", 20),
        ("recorder-sign-pk", 21),
        ("disclosure-id", 53),
        ("nonce", 69),
        ("ciphertext", 93),
        ("tag", ct_end),
        ("signature", len(record) - 1),
    )
    for region, offset in regions:
        error: type[CryptoError] = (
            UnsupportedVersionError if region == "version" else SignatureError
        )
        vectors.append(
            open_fails(
                f"flipped-{region}",
                f"A byte of {region} flipped; the signature no longer verifies.",
                error,
                flip(record, offset),
            )
        )
    for region, offset, error in (
        ("conversation-id", 1, BindingError),
        ("epoch", 20, BindingError),
        ("disclosure-id", 53, BindingError),
        ("nonce", 69, DecryptionError),
        ("ciphertext", 93, DecryptionError),
        ("tag", ct_end, DecryptionError),
    ):
        vectors.append(
            open_fails(
                f"resigned-flipped-{region}",
                "A byte flipped, then re-signed by the therapist; caught by "
                + ("the binding check." if error is BindingError else "decryption."),
                error,
                resign(flip(record, offset), therapist),
            )
        )
    vectors.append(
        open_fails(
            "resigned-id-and-expected",
            "The disclosure id changed, re-signed, and that id expected: the id is in the "
            "associated data.",
            DecryptionError,
            resign(flip(record, 53), therapist),
            disclosure_id=flip(DISCLOSURE_ID, 0).hex(),
        )
    )

    # A message and a disclosure never stand for each other.
    with deterministic_random("disclosure/a-message"):
        message = seal_message(
            b"A message, not a disclosure.", key, CONVERSATION_ID, EPOCH, therapist, DISCLOSURE_ID
        )
    vectors += [
        open_fails(
            "a-message-as-a-disclosure",
            "The therapist's version-1 message of the same layout and ids: its signature is "
            "over 'confide/v1/message-sig'.",
            SignatureError,
            message,
        ),
        open_fails(
            "a-message-resigned-as-a-disclosure",
            "That message re-signed with the disclosure label by the therapist: its "
            "ciphertext is under the message key and associated data.",
            DecryptionError,
            resign(message, therapist),
        ),
        fails(
            "a-disclosure-as-a-message",
            "The record opened as a message (open_message) with its ids: its signature is "
            "over 'confide/v1/disclosure-sig'.",
            "open_as_message",
            {
                "wire": record.hex(),
                "epoch_key": EPOCH_KEY.hex(),
                "sender_identity": therapist.public.to_bytes().hex(),
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "client_message_id": DISCLOSURE_ID.hex(),
            },
            SignatureError,
        ),
        fails(
            "a-disclosure-resigned-as-a-message",
            "The record re-signed with the message label by the therapist and opened as a "
            "message: its ciphertext is under the disclosure key.",
            "open_as_message",
            {
                "wire": resign(record, therapist, _labels.MESSAGE_SIG).hex(),
                "epoch_key": EPOCH_KEY.hex(),
                "sender_identity": therapist.public.to_bytes().hex(),
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "client_message_id": DISCLOSURE_ID.hex(),
            },
            DecryptionError,
        ),
    ]

    def forged(name: str, encoded: bytes) -> bytes:
        with deterministic_random(f"disclosure/forged/{name}"):
            return _seal_encoded(encoded, key, CONVERSATION_ID, EPOCH, therapist, DISCLOSURE_ID)

    canonical = description_of(fields).to_json()
    for name, comment, encoded in (
        ("not-json", "Authentic, but the description is not JSON.", b"disclosed"),
        ("not-utf8", "Authentic, but the description is not UTF-8.", b'"\xff"'),
        (
            "spaced",
            "Authentic, but the JSON has a space after a colon.",
            canonical.replace(b'"disclosed_on":', b'"disclosed_on": '),
        ),
        (
            "reordered",
            "Authentic, but the members are in another order.",
            b'{"legal_basis":"duty_to_protect","disclosed_on":"2026-11-26"'
            + canonical[canonical.index(b',"recipient"') :],
        ),
        (
            "escaped-letter",
            "Authentic, but a letter is written as \\u0041.",
            canonical.replace(b"Officer", b"\\u004ffficer"),
        ),
        (
            "missing-purpose",
            "Authentic, but the purpose is missing.",
            canonical[: canonical.index(b',"purpose"')] + b"}",
        ),
        (
            "extra-member",
            "Authentic, but the object has a sixth member.",
            canonical[:-1] + b',"note":"x"}',
        ),
        (
            "empty-recipient",
            "Authentic, but the recipient is empty.",
            canonical.replace(b'"Officer J. Ruiz, Oakland Police Department"', b'""'),
        ),
        (
            "tab",
            "Authentic, but the purpose holds a tab (escaped as \\t).",
            canonical.replace(b"Warn the", b"Warn\\tthe"),
        ),
        (
            "date-not-a-day",
            "Authentic, but the date is 2026-02-30.",
            canonical.replace(b"2026-11-26", b"2026-02-30"),
        ),
        (
            "basis-unknown",
            "Authentic, but the legal basis is not one of the five.",
            canonical.replace(b"duty_to_protect", b"duty_to_inform_"),
        ),
    ):
        vectors.append(
            open_fails(f"description-{name}", comment, FormatError, forged(name, encoded))
        )

    seal_base = {
        **next(v["inputs"] for v in vectors if v["name"] == "seal-duty-to-protect"),
        "random": [],
    }
    vectors += bad_epoch_vectors("seal", "seal", seal_base)
    vectors += [
        fails(
            "seal-short-disclosure-id",
            "A 15-byte disclosure id." + NO_DRAW,
            "seal",
            {**seal_base, "disclosure_id": DISCLOSURE_ID[:15].hex()},
            FormatError,
        ),
        fails(
            "seal-too-long",
            "A description of 8189 bytes of JSON, one over the largest." + NO_DRAW,
            "seal",
            {
                **seal_base,
                "description": {
                    **seal_base["description"],
                    "information_text": "x" * (8189 - len(canonical) + len(fields["information"])),
                },
            },
            FormatError,
        ),
    ]
    for name, comment, changes in (
        ("empty-recipient", "An empty recipient.", {"recipient_text": ""}),
        ("carriage-return", "A carriage return in the purpose.", {"purpose_text": "a\rb"}),
        ("delete", "DEL in the recipient.", {"recipient_text": "a\x7fb"}),
        ("lone-surrogate", "A lone surrogate in the information.", {"information_text": "a\ud800"}),
        (
            "date-not-a-day",
            "29 February of a year that is not leap.",
            {"disclosed_on_text": "2025-02-29"},
        ),
        ("date-year-zero", "Year 0000.", {"disclosed_on_text": "0000-01-01"}),
        ("date-short", "A date without leading zeros.", {"disclosed_on_text": "2026-1-5"}),
        ("date-compact", "A date without dashes.", {"disclosed_on_text": "20261126"}),
        ("basis-unknown", "A basis not among the five.", {"legal_basis_text": "other"}),
        ("basis-case", "A basis in capitals.", {"legal_basis_text": "COURT_ORDER"}),
        ("recipient-not-text", "A recipient that is a number.", {"recipient_text": 7}),
    ):
        vectors.append(
            fails(
                f"describe-{name}",
                comment,
                "describe",
                {**_text_fields(dict(fields)), **changes},
                FormatError,
            )
        )
    too_long = {
        **_text_fields(dict(fields)),
        "information_text": "x" * (8188 - len(canonical) + len(fields["information"])),
    }
    vectors.append(
        ok(
            "describe-largest",
            "A description of exactly 8188 bytes of JSON, the largest that seals.",
            "describe",
            too_long,
            {
                "description": description_of(
                    {k.removesuffix("_text"): v for k, v in too_long.items()}
                )
                .to_json()
                .hex()
            },
        )
    )
    return document(
        "Disclosure records: header(93) || AEAD(H(epoch_key, 'confide/v1/disclosure-key'), "
        "nonce, pad(description), 'confide/v1/disclosure' || header) || Ed25519 "
        "signature(64) over 'confide/v1/disclosure-sig' || header || ct. 'describe' builds a "
        "description and gives its canonical JSON; 'seal' replays 'random'; 'open' takes the "
        "server's date and legal basis; 'verify' is the server's check; 'open_as_message' "
        "is open_message() of a record.",
        vectors,
    )


def _open_inputs(record: bytes, recorder: IdentityKeyPair, fields: dict[str, str]) -> JsonObject:
    return {
        "record": record.hex(),
        "epoch_key": EPOCH_KEY.hex(),
        "recorder_identity": recorder.public.to_bytes().hex(),
        "conversation_id": CONVERSATION_ID.hex(),
        "epoch": EPOCH,
        "disclosure_id": DISCLOSURE_ID.hex(),
        "disclosed_on_text": fields["disclosed_on"],
        "legal_basis_text": fields["legal_basis"],
    }


__all__ = ["DISCLOSURE_ID", "disclosure_file"]
