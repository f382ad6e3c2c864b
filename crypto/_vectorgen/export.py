"""Vectors for exports (crypto/SPEC.md, "Exports"): the same file from both
implementations, and every way a changed one is refused."""

from __future__ import annotations

import json
import re
from typing import Any

from .. import _labels
from ..errors import BindingError, FormatError, SignatureError, UnsupportedVersionError
from ..export import (
    ExportMember,
    ExportMessage,
    _canonical,
    _split,
    export_message_hash,
    make_export,
)
from ..identity import IdentityKeyPair
from ..safety import format_safety_number, safety_number
from .common import (
    CONVERSATION_ID,
    JsonObject,
    document,
    fails,
    identity_secret,
    ok,
    persona,
    persona_v2,
)

EXPORTED_AT = 1_796_500_000_000  # 2026-12-05T19:06:40Z
T0 = 1_796_300_000_000


def _people() -> tuple[IdentityKeyPair, IdentityKeyPair, IdentityKeyPair]:
    """The client (version 1), the therapist (version 2) and another therapist."""
    return persona("client"), persona_v2("therapist"), persona("other-therapist")


def _messages(client: IdentityKeyPair, therapist: IdentityKeyPair) -> list[ExportMessage]:
    c, t = client.public.sign_key, therapist.public.sign_key
    return [
        ExportMessage(1, "client", T0, c, "Hello Theo,\nI had a hard week. Can we talk?"),
        ExportMessage(
            2, "therapist", T0 + 3_600_000, t, "Of course. <b>Thursday</b> at 10 & 'on time'?"
        ),
        ExportMessage(3, "client", T0 + 3_660_123, c, "Yes \u2014 th\u00e9 caf\u00e9 \U0001f33f"),
        ExportMessage(4, "therapist", T0 + 7_200_000, None, None),
        ExportMessage(6, "client", T0 + 86_400_000, c, ""),
    ]


def _message_json(message: ExportMessage) -> JsonObject:
    return {
        "seq": message.seq,
        "sender": message.sender,
        "time": message.time,
        "signer": None if message.signer is None else message.signer.hex(),
        "text_text": message.text,
    }


def _member(name: str, identity: IdentityKeyPair) -> JsonObject:
    return {"name_text": name, "identity": identity.public.to_bytes().hex()}


def _make_inputs(
    exporter: IdentityKeyPair,
    client: IdentityKeyPair,
    therapist: IdentityKeyPair,
    messages: list[Any],
    exported_at: object = EXPORTED_AT,
    names: tuple[str, str] = ("Clara", "Theo"),
) -> JsonObject:
    return {
        "exporter_secret": identity_secret(exporter).hex(),
        "exporter_since": exporter.public.since,
        "conversation_id": CONVERSATION_ID.hex(),
        "client": _member(names[0], client),
        "therapist": _member(names[1], therapist),
        "messages": messages,
        "exported_at": exported_at,
    }


def _export(
    exporter: IdentityKeyPair,
    client: IdentityKeyPair,
    therapist: IdentityKeyPair,
    messages: list[ExportMessage],
) -> bytes:
    return make_export(
        exporter,
        CONVERSATION_ID,
        client=ExportMember("Clara", client.public),
        therapist=ExportMember("Theo", therapist.public),
        messages=messages,
        exported_at=EXPORTED_AT,
    )


def _expected_make(file: bytes, messages: list[ExportMessage]) -> JsonObject:
    _, manifest = _split(file)
    fields = json.loads(manifest)
    return {
        "file_text": file.decode("utf-8"),
        "document_hash_b64": fields["document"],
        "message_hashes": [
            export_message_hash(CONVERSATION_ID, message).hex() for message in messages
        ],
        "signature_b64": fields["signature"],
    }


def _resigned(file: bytes, signer: IdentityKeyPair, change: dict[str, Any]) -> bytes:
    """The export with its manifest's fields changed as ``change`` says, signed again by
    ``signer``: what someone holding that key could make."""
    document_part, manifest = _split(file)
    fields = json.loads(manifest)
    fields.pop("signature")
    fields.update(change)
    signature = signer._sign(_labels.EXPORT + _canonical(fields).encode("ascii"))
    text = _canonical({**fields, "signature": _b64(signature)})
    return document_part + b"<!--confide-export-manifest\n" + text.encode() + b"\n-->\n"


def _b64(data: bytes) -> str:
    from ..encoding import b64encode

    return b64encode(data)


def _verify_inputs(file: bytes, **trust: Any) -> JsonObject:
    inputs: JsonObject = {"file_text": file.decode("utf-8", errors="strict")}
    inputs["trusted"] = trust.get("trusted", [])
    inputs["fingerprints"] = trust.get("fingerprints", [])
    inputs["safety_numbers"] = trust.get("safety_numbers", [])
    return inputs


def _expected_verify(exporter: str, messages: list[ExportMessage], number: str) -> JsonObject:
    return {
        "conversation_id": CONVERSATION_ID.hex(),
        "exporter": exporter,
        "exported_at": EXPORTED_AT,
        "safety_number_text": number,
        "messages": [_message_json(message) for message in messages],
    }


def export_file() -> str:
    client, therapist, other = _people()
    messages = _messages(client, therapist)
    by_client = _export(client, client, therapist, messages)
    by_therapist = _export(therapist, client, therapist, [])
    number = safety_number(client.public, therapist.public)
    message_inputs = [_message_json(message) for message in messages]
    trust_client = {"trusted": [client.public.to_bytes().hex()]}
    vectors: list[JsonObject] = [
        ok(
            "client-exports",
            "The client exports five messages: text with HTML, quotes, a line break, accents"
            " and an emoji, one message that could not be opened (listed, with no text and"
            " no signer), a gap in the numbers (5 was never held) and an empty text. Both"
            " implementations write exactly this file.",
            "make",
            _make_inputs(client, client, therapist, message_inputs),
            _expected_make(by_client, messages),
        ),
        ok(
            "therapist-exports-nothing",
            "The therapist (a version-2 identity) exports a conversation with no message.",
            "make",
            _make_inputs(therapist, client, therapist, []),
            _expected_make(by_therapist, []),
        ),
    ]
    bad_make: list[tuple[str, str, JsonObject]] = [
        (
            "make-exporter-not-a-member",
            "Another therapist cannot export this conversation.",
            _make_inputs(other, client, therapist, message_inputs),
        ),
        (
            "make-out-of-order",
            "Messages must come in increasing numbers.",
            _make_inputs(client, client, therapist, [message_inputs[1], message_inputs[0]]),
        ),
        (
            "make-repeated-number",
            "Two messages cannot share a number.",
            _make_inputs(client, client, therapist, [message_inputs[0], message_inputs[0]]),
        ),
        (
            "make-seq-zero",
            "Numbers start at 1.",
            _make_inputs(client, client, therapist, [{**message_inputs[0], "seq": 0}]),
        ),
        (
            "make-time-beyond-9999",
            "A time after 9999-12-31 cannot be written as a date.",
            _make_inputs(
                client, client, therapist, [{**message_inputs[0], "time": 253_402_300_800_000}]
            ),
        ),
        (
            "make-unknown-sender",
            "A sender is 'client' or 'therapist'.",
            _make_inputs(client, client, therapist, [{**message_inputs[0], "sender": "admin"}]),
        ),
        (
            "make-text-without-signer",
            "A text comes with the key that signed it.",
            _make_inputs(client, client, therapist, [{**message_inputs[0], "signer": None}]),
        ),
        (
            "make-lone-surrogate",
            "A text that is not valid Unicode.",
            _make_inputs(
                client, client, therapist, [{**message_inputs[0], "text_text": "a\ud800b"}]
            ),
        ),
        (
            "make-empty-name",
            "A member's name has at least one character.",
            _make_inputs(client, client, therapist, [], names=("", "Theo")),
        ),
        (
            "make-time-boolean",
            "The export's time is an integer, not a boolean.",
            _make_inputs(client, client, therapist, [], exported_at=True),
        ),
    ]
    vectors += [
        fails(name, comment, "make", inputs, FormatError) for name, comment, inputs in bad_make
    ]

    vectors += [
        ok(
            "verify-trusting-the-exporter",
            "The verifier knows the client's identity.",
            "verify",
            _verify_inputs(by_client, **trust_client),
            _expected_verify("client", messages, number),
        ),
        ok(
            "verify-by-fingerprint",
            "The verifier was given the client's fingerprint.",
            "verify",
            _verify_inputs(by_client, fingerprints=[client.public.fingerprint().hex()]),
            _expected_verify("client", messages, number),
        ),
        ok(
            "verify-by-safety-number",
            "The verifier was given the safety number the two compared, in groups.",
            "verify",
            _verify_inputs(by_client, safety_numbers=[format_safety_number(number)]),
            _expected_verify("client", messages, number),
        ),
        ok(
            "verify-therapist-export",
            "The therapist's export of nothing, checked by the client who knows them.",
            "verify",
            _verify_inputs(by_therapist, trusted=[therapist.public.to_bytes().hex()]),
            _expected_verify("therapist", [], number),
        ),
    ]
    text = by_client.decode()
    element_2 = re.search(r'<li[^>]*id="m2".*?</li>\n', text, re.DOTALL)
    if element_2 is None:
        raise FormatError("The export has no message 2")
    added = element_2.group(0).replace('"m2"', '"m5"').replace('"2"', '"5"').replace("#2", "#5")
    invalid = bytearray(by_client)
    invalid[by_client.index("caf\u00e9".encode()) + 3] = 0xFF
    unsigned_names = _resigned(by_client, other, {"exporter": "therapist"})
    by_other = _export(other, client, other, messages[:1])
    bad_verify: list[tuple[str, str, JsonObject, type]] = [
        (
            "verify-not-an-export",
            "A page without a manifest.",
            {**_verify_inputs(by_client, **trust_client), "file_text": "<!DOCTYPE html>\n"},
            FormatError,
        ),
        (
            "verify-cut-short",
            "The file without its last byte.",
            {**_verify_inputs(by_client, **trust_client), "file_text": text[:-1]},
            FormatError,
        ),
        (
            "verify-unknown-version",
            "A manifest of version 2, signed by the client.",
            _verify_inputs(_resigned(by_client, client, {"version": 2}), **trust_client),
            UnsupportedVersionError,
        ),
        (
            "verify-manifest-not-canonical",
            "A space added in the manifest.",
            _verify_inputs(
                by_client.replace(b'{"conversation":', b'{ "conversation":'), **trust_client
            ),
            FormatError,
        ),
        (
            "verify-safety-number-not-the-members",
            "The manifest, signed by the client, states another safety number.",
            _verify_inputs(
                _resigned(by_client, client, {"safety_number": "0" * 60}), **trust_client
            ),
            FormatError,
        ),
        (
            "verify-text-changed",
            "One byte of message 1's text changed ('week' for 'weak').",
            _verify_inputs(by_client.replace(b"hard week", b"hard weak"), **trust_client),
            BindingError,
        ),
        (
            "verify-invalid-utf8",
            "One byte of message 3's text made invalid UTF-8.",
            {
                "file": bytes(invalid).hex(),
                **{
                    key: value
                    for key, value in _verify_inputs(by_client, **trust_client).items()
                    if key != "file_text"
                },
            },
            BindingError,
        ),
        (
            "verify-heading-changed",
            "The heading names someone else; every message is intact.",
            _verify_inputs(
                by_client.replace(b"<h1>Messages between Clara", b"<h1>Messages between Carla"),
                **trust_client,
            ),
            BindingError,
        ),
        (
            "verify-message-removed",
            "Message 2's element taken out of the document.",
            _verify_inputs(text.replace(element_2.group(0), "").encode(), **trust_client),
            BindingError,
        ),
        (
            "verify-message-added",
            "A message 5 added to the document, after message 4.",
            _verify_inputs(
                text.replace(
                    '<li class="message from-client" id="m6"',
                    added + '<li class="message from-client" id="m6"',
                ).encode(),
                **trust_client,
            ),
            BindingError,
        ),
        (
            "verify-listed-hash-changed",
            "A listed message hash changed in the manifest, not signed again.",
            _verify_inputs(_rehashed(by_client), **trust_client),
            SignatureError,
        ),
        (
            "verify-signature-flipped",
            "The signature's first character changed.",
            _verify_inputs(_flipped_signature(by_client), **trust_client),
            SignatureError,
        ),
        (
            "verify-signed-by-someone-else",
            "Another therapist made an export naming themselves the therapist and signed it:"
            " the verifier knows the client and the therapist, not them.",
            _verify_inputs(
                by_other,
                trusted=[client.public.to_bytes().hex(), therapist.public.to_bytes().hex()],
            ),
            BindingError,
        ),
        (
            "verify-resigned-as-the-therapist",
            "The client's export, its exporter changed to the therapist and signed by"
            " another key: the therapist's identity does not verify it.",
            _verify_inputs(unsigned_names, trusted=[therapist.public.to_bytes().hex()]),
            SignatureError,
        ),
        (
            "verify-another-safety-number",
            "The verifier was given a safety number that is not these members'.",
            _verify_inputs(by_client, safety_numbers=["1" * 60]),
            BindingError,
        ),
        (
            "verify-malformed-safety-number",
            "A safety number of 59 digits.",
            _verify_inputs(by_client, safety_numbers=[number[:59]]),
            FormatError,
        ),
        (
            "verify-nobody-trusted",
            "A genuine export, but the verifier trusts no one.",
            _verify_inputs(by_client),
            BindingError,
        ),
    ]
    vectors += [
        fails(name, comment, "verify", inputs, error) for name, comment, inputs, error in bad_verify
    ]
    return document(
        "Exports: a conversation's messages as a signed HTML document (SPEC.md, Exports). "
        "'make' writes the file from an exporter's secret (and the time its identity holds "
        "an X-Wing key from, or null), the members (name, public identity) and the messages"
        " (seq, sender, time in milliseconds, signer: the Ed25519 key or null, text or null)."
        " 'verify' checks a file (file_text, or file in hex) against the trusted identities,"
        " fingerprints and safety numbers given.",
        vectors,
    )


def _rehashed(file: bytes) -> bytes:
    document_part, manifest = _split(file)
    fields = json.loads(manifest)
    fields["messages"][0]["hash"] = _b64(bytes(32))
    return (
        document_part
        + b"<!--confide-export-manifest\n"
        + _canonical(fields).encode()
        + (b"\n-->\n")
    )


def _flipped_signature(file: bytes) -> bytes:
    document_part, manifest = _split(file)
    fields = json.loads(manifest)
    signature = fields["signature"]
    fields["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    return (
        document_part
        + b"<!--confide-export-manifest\n"
        + _canonical(fields).encode()
        + (b"\n-->\n")
    )
