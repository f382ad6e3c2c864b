"""Vectors for safety numbers and the base64url transport encoding."""

from __future__ import annotations

from ..encoding import b64encode
from ..errors import BindingError, FormatError, UnsupportedVersionError
from ..identity import PublicIdentity
from ..safety import (
    check_invitation_therapist,
    format_identity_number,
    format_safety_number,
    identity_number,
    identity_qr_payload,
    invitation_fragment,
    parse_invitation_fragment,
    safety_number,
    safety_qr_payload,
)
from .common import JsonObject, document, fails, flip, ok, persona, replace


def safety_file() -> str:
    client = persona("client")
    therapist = persona("therapist")
    other = persona("other-therapist")
    a, b = client.public, therapist.public
    number = safety_number(a, b)
    payload = safety_qr_payload(a, b)
    identities = {"identity_a": a.to_bytes().hex(), "identity_b": b.to_bytes().hex()}
    swapped = {"identity_a": b.to_bytes().hex(), "identity_b": a.to_bytes().hex()}
    expected: JsonObject = {
        "fingerprint_a": a.fingerprint().hex(),
        "fingerprint_b": b.fingerprint().hex(),
        "safety_number_text": number,
        "formatted_text": format_safety_number(number),
        "qr_payload": payload.hex(),
    }
    vectors: list[JsonObject] = [
        ok("client-therapist", "Client as a, therapist as b.", "compute", identities, expected),
        ok(
            "therapist-client",
            "The same pair the other way round gives the same number and "
            "payload (fingerprints swap).",
            "compute",
            swapped,
            {
                **expected,
                "fingerprint_a": b.fingerprint().hex(),
                "fingerprint_b": a.fingerprint().hex(),
            },
        ),
        ok(
            "verify-qr",
            "The scanned payload matches.",
            "verify_qr",
            {**identities, "qr_payload": payload.hex()},
            {},
        ),
        ok(
            "verify-qr-swapped",
            "It matches from the other side too.",
            "verify_qr",
            {**swapped, "qr_payload": payload.hex()},
            {},
        ),
    ]
    third = safety_qr_payload(a, other.public)
    bad = [
        (
            "verify-qr-other-identity",
            "The payload is for the client and another therapist.",
            third,
            BindingError,
        ),
        (
            "verify-qr-flipped-fingerprint",
            "A byte of a fingerprint flipped.",
            flip(payload, 10),
            BindingError,
        ),
        (
            "verify-qr-unknown-version",
            "Version 0x02.",
            replace(payload, 0, b"\x02"),
            UnsupportedVersionError,
        ),
        ("verify-qr-truncated", "64 bytes.", payload[:-1], FormatError),
        ("verify-qr-over-long", "66 bytes.", payload + b"\x00", FormatError),
        ("verify-qr-empty", "Empty input.", b"", FormatError),
    ]
    for name, comment, data, error in bad:
        vectors.append(
            fails(name, comment, "verify_qr", {**identities, "qr_payload": data.hex()}, error)
        )
    vectors += identity_number_vectors(a, other.public, payload)
    return document(
        "Safety numbers: fp = BLAKE2b-256('confide/v1/fingerprint' || sign_pk || enc_pk) "
        "(unkeyed); 30 digits per fingerprint; the two digit strings sorted and concatenated; "
        "QR payload 0x01 || min(fp_a, fp_b) || max(fp_a, fp_b). One identity's number (an "
        "assisted recovery): its 30 digits; QR payload 0x01 || fp.",
        vectors,
    )


def identity_number_vectors(
    identity: PublicIdentity, other: PublicIdentity, safety_payload: bytes
) -> list[JsonObject]:
    """The number and QR payload of one identity (crypto/SPEC.md, "Assisted recovery")."""
    number = identity_number(identity)
    payload = identity_qr_payload(identity)
    inputs = {"identity": identity.to_bytes().hex()}
    vectors: list[JsonObject] = [
        ok(
            "identity-number",
            "The client's identity alone: the 30 digits its half of a safety number has.",
            "identity_number",
            inputs,
            {
                "fingerprint": identity.fingerprint().hex(),
                "identity_number_text": number,
                "formatted_text": format_identity_number(number),
                "qr_payload": payload.hex(),
            },
        ),
        ok(
            "verify-identity-qr",
            "The scanned payload matches.",
            "verify_identity_qr",
            {**inputs, "qr_payload": payload.hex()},
            {},
        ),
    ]
    bad = [
        (
            "verify-identity-qr-other-identity",
            "The payload is another identity's.",
            identity_qr_payload(other),
            BindingError,
        ),
        (
            "verify-identity-qr-flipped-fingerprint",
            "A byte of the fingerprint flipped.",
            flip(payload, 7),
            BindingError,
        ),
        (
            "verify-identity-qr-unknown-version",
            "Version 0x02.",
            replace(payload, 0, b"\x02"),
            UnsupportedVersionError,
        ),
        (
            "verify-identity-qr-safety-code",
            "A safety code of two identities (65 bytes) is not an identity code.",
            safety_payload,
            FormatError,
        ),
        ("verify-identity-qr-truncated", "32 bytes.", payload[:-1], FormatError),
        ("verify-identity-qr-empty", "Empty input.", b"", FormatError),
    ]
    for name, comment, data, error in bad:
        vectors.append(
            fails(name, comment, "verify_identity_qr", {**inputs, "qr_payload": data.hex()}, error)
        )
    return vectors


def encoding_file() -> str:
    vectors: list[JsonObject] = []
    samples: list[tuple[str, str, bytes]] = [
        ("empty", "The empty string.", b""),
        ("zero-byte", "One zero byte: two characters.", b"\x00"),
        ("dash", "0xfb: '-' replaces '+' of standard base64.", b"\xfb"),
        ("underscore", "0xfb 0xff: '_' replaces '/'.", b"\xfb\xff"),
        ("three-bytes", "Three bytes: four characters, no padding needed.", b"\xfb\xff\xbf"),
        ("key-sized", "32 bytes: 43 characters.", bytes(range(32))),
    ]
    for name, comment, data in samples:
        vectors.append(
            ok(
                f"round-trip-{name}",
                comment,
                "round_trip",
                {"data": data.hex()},
                {"text": b64encode(data)},
            )
        )
    bad = [
        ("padding", "Padding is refused.", "AA=="),
        ("padding-single", "A single padding character.", "AAA="),
        ("space", "Whitespace inside.", "AA AA"),
        ("newline", "A trailing newline.", "AAAA\n"),
        ("plus", "'+' of standard base64.", "+w"),
        ("slash", "'/' of standard base64.", "_/8"),
        ("non-ascii", "A non-ASCII letter.", "AA\u00e9A"),
        ("length-4k-plus-1", "5 characters cannot encode whole bytes.", "AAAAA"),
        ("non-canonical-1-byte", "'AB': the 4 unused bits are not zero.", "AB"),
        ("non-canonical-2-bytes", "'AAB': the 2 unused bits are not zero.", "AAB"),
    ]
    for name, comment, text in bad:
        vectors.append(fails(f"decode-{name}", comment, "decode", {"text": text}, FormatError))
    return document(
        "Transport encoding: base64url (RFC 4648 section 5) without padding, decoded strictly. "
        "'round_trip' encodes data to text and decodes text back to data; 'decode' must fail.",
        vectors,
    )


def invitation_file() -> str:
    therapist = persona("therapist").public
    other = persona("other-therapist").public
    issued = "Qm9va2VkLXR1ZXNkYXlzLWF0LTQtcG0tb25lLXRpbWUt"
    fragment = invitation_fragment(issued, therapist)
    fp = therapist.fingerprint()

    def make(name: str, comment: str, token_text: object) -> JsonObject:
        inputs: JsonObject = {
            "token_text": token_text,
            "public_identity": therapist.to_bytes().hex(),
        }
        try:
            made = invitation_fragment(token_text, therapist)  # type: ignore[arg-type]
        except FormatError:
            return fails(name, comment, "fragment", inputs, FormatError)
        return ok(name, comment, "fragment", inputs, {"fragment_text": made})

    def parse(name: str, comment: str, text: str) -> JsonObject:
        try:
            token_text, found = parse_invitation_fragment(text)
        except FormatError:
            return fails(name, comment, "parse", {"fragment_text": text}, FormatError)
        return ok(
            name,
            comment,
            "parse",
            {"fragment_text": text},
            {"token_text": token_text, "fingerprint": found.hex()},
        )

    def check(name: str, comment: str, expected: bytes, identity: PublicIdentity) -> JsonObject:
        inputs: JsonObject = {
            "fingerprint": expected.hex(),
            "public_identity": identity.to_bytes().hex(),
        }
        try:
            check_invitation_therapist(expected, identity)
        except (BindingError, FormatError) as exc:
            return fails(name, comment, "check", inputs, type(exc))
        return ok(name, comment, "check", inputs, {})

    token_part, _, fp_part = fragment.rpartition(".")
    vectors = [
        make("fragment", "The server's token, a dot, the therapist's fingerprint.", issued),
        make("fragment-shortest-token", "A 16-character token.", "A" * 16),
        make("fragment-longest-token", "A 128-character token.", "-_" * 64),
        make("fragment-token-too-short", "15 characters.", "A" * 15),
        make("fragment-token-too-long", "129 characters.", "A" * 129),
        make("fragment-token-not-base64url", "'+' is not in the alphabet.", "A" * 15 + "+"),
        make("fragment-token-with-dot", "A dot would end the token early.", "A" * 15 + "."),
        make("fragment-token-not-text", "A token is text, not a number.", 12345678901234567),
        parse("parse", "The fragment made above.", fragment),
        parse(
            "parse-token-only",
            "A link from before version 2, or one cut short, has no fingerprint.",
            token_part,
        ),
        parse("parse-empty", "Nothing after the '#'.", ""),
        parse("parse-empty-token", "Only the fingerprint.", "." + fp_part),
        parse(
            "parse-short-fingerprint",
            "31 bytes of fingerprint.",
            f"{issued}.{b64encode(fp[:31])}",
        ),
        parse("parse-padded-fingerprint", "Padding is not base64url here.", f"{fragment}="),
        parse("parse-two-dots", "The token cannot contain a dot.", f"{issued}.x.{fp_part}"),
        parse("parse-trailing-space", "Whitespace is the caller's to strip.", f"{fragment} "),
        check("check", "The served identity is the one the link names.", fp, therapist),
        check(
            "check-substituted",
            "The server serves another therapist's identity: refused.",
            fp,
            other,
        ),
        check("check-short-fingerprint", "A 31-byte fingerprint.", fp[:31], therapist),
    ]
    return document(
        "Invitation links: fragment = token || '.' || b64url(fingerprint(therapist)); the "
        "client's browser refuses a therapist identity whose fingerprint differs from the "
        "link's. 'check' expects nothing on success.",
        vectors,
    )
