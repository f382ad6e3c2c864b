"""Vectors for identity successions (crypto/SPEC.md, "Assisted recovery")."""

from __future__ import annotations

from .. import _labels
from ..errors import (
    BindingError,
    CryptoError,
    FormatError,
    SignatureError,
    UnsupportedVersionError,
    WeakKeyError,
)
from ..identity import IdentityKeyPair
from ..succession import MAX_SUCCESSION_NUMBER, sign_succession
from .common import (
    LOW_ORDER_POINTS,
    JsonObject,
    document,
    fails,
    flip,
    identity_secret,
    ok,
    persona,
    persona_v2,
    replace,
)

CLIENT_ID = 8
THERAPIST_ID = 7
CONFIRMED_AT = 1796400000  # 2026-12-04T16:00:00Z
_NUMBERS = 1 + 3 * 8  # where the previous identity starts
_NEW = _NUMBERS + 129  # where the new identity starts
_SIGNATURE = _NEW + 129


def _resigned(signer: IdentityKeyPair, body: bytes) -> bytes:
    """``body`` signed by ``signer`` as a succession: what an insider holding the
    confirmer's key could make, which only the binding and shape checks still catch."""
    return body + signer._sign(_labels.IDENTITY_SUCCESSION + body)


def succession_file() -> str:
    old = persona("client")
    new = persona("other-client")
    therapist = persona("therapist")
    other = persona("other-therapist")
    fields: JsonObject = {
        "user_id": CLIENT_ID,
        "confirmer_id": THERAPIST_ID,
        "confirmed_at": CONFIRMED_AT,
        "previous_identity": old.public.to_bytes().hex(),
        "new_identity": new.public.to_bytes().hex(),
    }
    good = sign_succession(
        therapist,
        user_id=CLIENT_ID,
        confirmer_id=THERAPIST_ID,
        confirmed_at=CONFIRMED_AT,
        previous_identity=old.public,
        new_identity=new.public,
    )
    body = good[:_SIGNATURE]
    expect = {
        "confirmer_identity": therapist.public.to_bytes().hex(),
        "user_id": CLIENT_ID,
        "confirmer_id": THERAPIST_ID,
        "new_identity": new.public.to_bytes().hex(),
    }
    vectors: list[JsonObject] = [
        ok(
            "sign",
            "The therapist states that the client's identity was replaced by a new one.",
            "sign",
            {"confirmer_secret": identity_secret(therapist).hex(), **fields},
            {
                "statement": (_labels.IDENTITY_SUCCESSION + body).hex(),
                "succession": good.hex(),
            },
        ),
        ok(
            "verify",
            "Checked against the therapist as the reader knows them, the client and the "
            "client's current identity: it states the previous identity and the time.",
            "verify",
            {"succession": good.hex(), **expect},
            fields,
        ),
    ]
    vectors += _sign_failures(therapist, fields)
    insider: list[tuple[str, str, bytes, type[CryptoError]]] = [
        (
            "verify-another-user",
            "Re-signed by the therapist for user 9.",
            _resigned(therapist, replace(body, 1, (9).to_bytes(8, "big"))),
            BindingError,
        ),
        (
            "verify-another-confirmer",
            "Re-signed by the therapist, naming confirmer 6.",
            _resigned(therapist, replace(body, 9, (6).to_bytes(8, "big"))),
            BindingError,
        ),
        (
            "verify-another-new-identity",
            "Re-signed by the therapist, naming the therapist's own identity as the new one.",
            _resigned(therapist, replace(body, _NEW, therapist.public.to_bytes())),
            BindingError,
        ),
        (
            "verify-user-id-above-2-53",
            "Re-signed by the therapist with user id 2^53, which a browser cannot read exactly.",
            _resigned(therapist, replace(body, 1, (MAX_SUCCESSION_NUMBER + 1).to_bytes(8, "big"))),
            FormatError,
        ),
        (
            "verify-time-above-2-53",
            "Re-signed by the therapist with a time of 2^64 - 1.",
            _resigned(therapist, replace(body, 17, b"\xff" * 8)),
            FormatError,
        ),
        (
            "verify-previous-not-an-identity",
            "Re-signed by the therapist over a previous identity whose self-signature fails.",
            _resigned(therapist, flip(body, _NUMBERS + 100)),
            SignatureError,
        ),
        (
            "verify-previous-is-the-new-one",
            "Re-signed by the therapist with the new identity as the previous one too.",
            _resigned(therapist, replace(body, _NUMBERS, new.public.to_bytes())),
            FormatError,
        ),
    ]
    for point_name, point in LOW_ORDER_POINTS.items():
        signed = b"\x01" + old.sign_key + point
        weak = signed + old._sign(_labels.IDENTITY + signed)
        insider.append(
            (
                f"verify-previous-low-order-enc-pk-{point_name}",
                f"Re-signed by the therapist over a previous identity whose enc_pk is the "
                f"low-order point u = {point_name}.",
                _resigned(therapist, replace(body, _NUMBERS, weak)),
                WeakKeyError,
            )
        )
    outsider: list[tuple[str, str, bytes, type[CryptoError]]] = [
        (
            "verify-signed-by-another-therapist",
            "The same statement, signed by another therapist.",
            _resigned(other, body),
            SignatureError,
        ),
        (
            "verify-signed-by-the-previous-identity",
            "The same statement, signed by the replaced identity.",
            _resigned(old, body),
            SignatureError,
        ),
        ("verify-flipped-user-id", "A byte of the user id flipped.", flip(good, 8), SignatureError),
        (
            "verify-flipped-confirmer-id",
            "A byte of the confirmer id flipped.",
            flip(good, 16),
            SignatureError,
        ),
        ("verify-flipped-time", "A byte of the time flipped.", flip(good, 24), SignatureError),
        (
            "verify-flipped-previous",
            "A byte of the previous identity flipped.",
            flip(good, _NUMBERS + 5),
            SignatureError,
        ),
        (
            "verify-flipped-new",
            "A byte of the new identity flipped.",
            flip(good, _NEW + 5),
            SignatureError,
        ),
        (
            "verify-flipped-signature",
            "A byte of the signature flipped.",
            flip(good, _SIGNATURE + 3),
            SignatureError,
        ),
        (
            "verify-unknown-version",
            "Version 0x03.",
            replace(good, 0, b"\x03"),
            UnsupportedVersionError,
        ),
        ("verify-truncated", "346 bytes.", good[:-1], FormatError),
        ("verify-over-long", "348 bytes.", good + b"\x00", FormatError),
        ("verify-empty", "Empty input.", b"", FormatError),
    ]
    for name, comment, data, error in outsider + insider:
        vectors.append(fails(name, comment, "verify", {"succession": data.hex(), **expect}, error))
    vectors += [
        fails(
            "verify-expecting-another-therapist",
            "Checked against another therapist than the one who signed it.",
            "verify",
            {
                **expect,
                "succession": good.hex(),
                "confirmer_identity": other.public.to_bytes().hex(),
            },
            SignatureError,
        ),
        fails(
            "verify-expecting-another-user",
            "The reader expects it for another member.",
            "verify",
            {**expect, "succession": good.hex(), "user_id": 9},
            BindingError,
        ),
        fails(
            "verify-expecting-another-new-identity",
            "The member's current identity, as the reader has it, is another one.",
            "verify",
            {
                **expect,
                "succession": good.hex(),
                "new_identity": other.public.to_bytes().hex(),
            },
            BindingError,
        ),
    ]
    vectors += _version_2_vectors(therapist, old)
    return document(
        "Identity successions (347 bytes; version 2, with a version-2 identity, 1,571 or "
        "2,795 bytes): body = 0x01 || u64(user_id) || u64(confirmer_id) || "
        "u64(confirmed_at) || previous_identity(129) || new_identity(129); succession = body "
        "|| Ed25519-Sign(confirmer_sign_sk, 'confide/v1/identity-succession' || body). "
        "'sign' gives the signed statement (label || body) and the succession; 'verify' "
        "checks one against the expected confirmer, user, confirmer id and new identity.",
        vectors,
    )


def _version_2_vectors(therapist: IdentityKeyPair, old: IdentityKeyPair) -> list[JsonObject]:
    """A version-1 identity replaced by a version-2 one, as every recovery now does."""
    new = persona_v2("other-client")
    fields: JsonObject = {
        "user_id": CLIENT_ID,
        "confirmer_id": THERAPIST_ID,
        "confirmed_at": CONFIRMED_AT,
        "previous_identity": old.public.to_bytes().hex(),
        "new_identity": new.public.to_bytes().hex(),
    }
    good = sign_succession(
        therapist,
        user_id=CLIENT_ID,
        confirmer_id=THERAPIST_ID,
        confirmed_at=CONFIRMED_AT,
        previous_identity=old.public,
        new_identity=new.public,
    )
    body = good[:-64]
    expect = {
        "confirmer_identity": therapist.public.to_bytes().hex(),
        "user_id": CLIENT_ID,
        "confirmer_id": THERAPIST_ID,
        "new_identity": new.public.to_bytes().hex(),
    }

    def verify_fails(name: str, comment: str, data: bytes, error: type[CryptoError]) -> JsonObject:
        return fails(name, comment, "verify", {"succession": data.hex(), **expect}, error)

    return [
        ok(
            "sign-v2",
            "The new identity is of version 2: the succession is version 2, 1,571 bytes, "
            "each identity as long as its own version byte says.",
            "sign",
            {"confirmer_secret": identity_secret(therapist).hex(), **fields},
            {
                "statement": (_labels.IDENTITY_SUCCESSION + body).hex(),
                "succession": good.hex(),
            },
        ),
        ok("verify-v2", "It verifies.", "verify", {"succession": good.hex(), **expect}, fields),
        verify_fails("verify-v2-truncated", "One byte short.", good[:-1], FormatError),
        verify_fails("verify-v2-over-long", "One byte more.", good + b"\x00", FormatError),
        verify_fails(
            "verify-v2-read-as-version-1",
            "The version byte set to 0x01: no version-1 length.",
            replace(good, 0, b"\x01"),
            FormatError,
        ),
        verify_fails(
            "verify-v2-unknown-identity-version",
            "The previous identity's version byte set to 0x03: its length is unknown.",
            replace(good, 25, b"\x03"),
            FormatError,
        ),
        verify_fails(
            "verify-v2-previous-read-as-version-2",
            "The previous identity's version byte set to 0x02: the lengths no longer add up.",
            replace(good, 25, b"\x02"),
            FormatError,
        ),
        verify_fails(
            "verify-v2-flipped-new-identity",
            "A byte of the new identity's X-Wing key flipped.",
            flip(good, 25 + 129 + 900),
            SignatureError,
        ),
    ]


def _sign_failures(therapist: IdentityKeyPair, fields: JsonObject) -> list[JsonObject]:
    secret = {"confirmer_secret": identity_secret(therapist).hex()}
    cases: list[tuple[str, str, JsonObject]] = [
        (
            "sign-same-identity",
            "The previous identity and the new one are the same.",
            {"previous_identity": fields["new_identity"]},
        ),
        ("sign-negative-user-id", "A user id of -1.", {"user_id": -1}),
        (
            "sign-time-above-2-53",
            "A time of 2^53, which a browser cannot read exactly.",
            {"confirmed_at": MAX_SUCCESSION_NUMBER + 1},
        ),
    ]
    return [
        fails(name, comment, "sign", {**secret, **fields, **change}, FormatError)
        for name, comment, change in cases
    ]
