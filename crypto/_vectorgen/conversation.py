"""Vectors for conversation-key envelopes and the epoch rotation policy."""

from __future__ import annotations

import hashlib
from typing import Any

from .. import _labels
from .._primitives import aead_encrypt, h, x25519, x25519_base
from ..conversation import (
    DOWNGRADE_GRACE_MS,
    ROTATE_AFTER_MESSAGES,
    ROTATE_AFTER_SECONDS,
    ConversationKey,
    wrap_conversation_key,
)
from ..errors import (
    BindingError,
    CryptoError,
    DecryptionError,
    DowngradeError,
    FormatError,
    SignatureError,
    UnsupportedVersionError,
    WeakKeyError,
)
from ..identity import IdentityKeyPair
from . import xwing_kat
from .common import (
    CONVERSATION_ID,
    LOW_ORDER_POINTS,
    NO_DRAW,
    OTHER_CONVERSATION_ID,
    PERSONA_SINCE,
    JsonObject,
    bad_epoch_vectors,
    document,
    fails,
    flip,
    identity_secret,
    ok,
    persona,
    persona_v2,
    replace,
)
from .rng import deterministic_random

EPOCH = 7
EPOCH_KEY = h(b"fixed epoch key for test vectors", b"epoch-key")

# Byte offsets of the envelope's regions: (name, offset of the flipped byte).
REGIONS = (
    ("version", 0),
    ("conversation-id", 1),
    ("epoch", 20),
    ("recipient-enc-pk", 21),
    ("wrapper-sign-pk", 53),
    ("eph-pk", 85),
    ("nonce", 117),
    ("ciphertext", 141),
    ("tag", 173),
    ("signature", 189),
)
_BODY = 189


def resign(envelope: bytes, wrapper: IdentityKeyPair) -> bytes:
    """Replace the signature with the wrapper's signature of the (altered) body."""
    body = envelope[:-64]
    return body + wrapper._sign(_labels.ENVELOPE_SIG + body)


def envelope_file() -> str:
    client = persona("client")
    therapist = persona("therapist")
    other = persona("other-therapist")
    key = ConversationKey(EPOCH_KEY)
    with deterministic_random("envelope/wrap") as rng:
        envelope = wrap_conversation_key(key, CONVERSATION_ID, EPOCH, client.public, therapist)
    eph_sk = rng.drawn[0]
    eph_pk = envelope[85:117]
    shared = x25519(eph_sk, client.enc_key, "test")
    vectors: list[JsonObject] = [
        ok(
            "wrap",
            "The therapist wraps the epoch key to the client. 'random' is eph_sk, then the nonce.",
            "wrap",
            {
                "epoch_key": EPOCH_KEY.hex(),
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "recipient_identity": client.public.to_bytes().hex(),
                "wrapper_secret": identity_secret(therapist).hex(),
                "random": [value.hex() for value in rng.drawn],
            },
            {
                "eph_pk": eph_pk.hex(),
                "shared_secret": shared.hex(),
                "envelope_key": h(shared, _labels.ENVELOPE + eph_pk + client.enc_key).hex(),
                "envelope": envelope.hex(),
            },
        )
    ]

    def inputs(
        data: bytes,
        recipient: IdentityKeyPair = client,
        wrapper: IdentityKeyPair = therapist,
        conversation: bytes = CONVERSATION_ID,
        epoch: int = EPOCH,
    ) -> JsonObject:
        return {
            "envelope": data.hex(),
            "recipient_secret": identity_secret(recipient).hex(),
            "wrapper_identity": wrapper.public.to_bytes().hex(),
            "conversation_id": conversation.hex(),
            "epoch": epoch,
        }

    def unwrap_fails(
        name: str,
        comment: str,
        error: type[CryptoError],
        data: bytes,
        recipient: IdentityKeyPair = client,
        wrapper: IdentityKeyPair = therapist,
        conversation: bytes = CONVERSATION_ID,
        epoch: int = EPOCH,
    ) -> JsonObject:
        arguments = inputs(data, recipient, wrapper, conversation, epoch)
        return fails(name, comment, "unwrap", arguments, error)

    public_fields = {
        "version": 1,
        "conversation_id": CONVERSATION_ID.hex(),
        "epoch": EPOCH,
        "recipient_enc_pk": client.enc_key.hex(),
        "wrapper_sign_pk": therapist.sign_key.hex(),
    }
    vectors += [
        ok(
            "unwrap",
            "The client unwraps the epoch key.",
            "unwrap",
            inputs(envelope),
            {"epoch_key": EPOCH_KEY.hex()},
        ),
        ok(
            "verify",
            "The server checks shape and signature and reads the public fields.",
            "verify",
            {"envelope": envelope.hex(), "wrapper_identity": therapist.public.to_bytes().hex()},
            public_fields,
        ),
        fails(
            "verify-wrong-wrapper",
            "The server expects another wrapper.",
            "verify",
            {"envelope": envelope.hex(), "wrapper_identity": other.public.to_bytes().hex()},
            SignatureError,
        ),
        unwrap_fails("empty", "Empty input.", FormatError, b""),
        unwrap_fails("truncated", "252 bytes.", FormatError, envelope[:-1]),
        unwrap_fails("over-long", "254 bytes.", FormatError, envelope + b"\x00"),
        unwrap_fails(
            "unknown-version",
            "Version 0x04.",
            UnsupportedVersionError,
            replace(envelope, 0, b"\x04"),
        ),
        unwrap_fails(
            "wrong-wrapper-expected",
            "Signed by the therapist, another therapist expected.",
            SignatureError,
            envelope,
            wrapper=other,
        ),
        unwrap_fails(
            "wrong-conversation-expected",
            "Another conversation expected.",
            BindingError,
            envelope,
            conversation=OTHER_CONVERSATION_ID,
        ),
        unwrap_fails(
            "wrong-epoch-expected", "Epoch 8 expected.", BindingError, envelope, epoch=EPOCH + 1
        ),
        unwrap_fails(
            "wrong-recipient",
            "Another therapist tries to unwrap the client's envelope.",
            BindingError,
            envelope,
            recipient=other,
        ),
    ]
    for region, offset in REGIONS:
        tampered = flip(envelope, offset)
        error: type[CryptoError] = (
            UnsupportedVersionError if region == "version" else (SignatureError)
        )
        vectors.append(
            unwrap_fails(
                f"flipped-{region}",
                f"A byte of {region} flipped; the signature no longer verifies.",
                error,
                tampered,
            )
        )
    # Tampered and re-signed by the wrapper (an insider): caught by binding or by the AEAD.
    binding, decryption = "the binding check", "decryption"
    in_ad = "decryption (the field is in the associated data)"
    flipped_conversation = flip(CONVERSATION_ID, 0)
    resigned: list[tuple[str, str, int, type[CryptoError], bytes, int]] = [
        ("conversation-id", binding, 1, BindingError, CONVERSATION_ID, EPOCH),
        ("epoch", binding, 20, BindingError, CONVERSATION_ID, EPOCH),
        ("recipient-enc-pk", binding, 21, BindingError, CONVERSATION_ID, EPOCH),
        ("eph-pk", decryption, 85, DecryptionError, CONVERSATION_ID, EPOCH),
        ("nonce", decryption, 117, DecryptionError, CONVERSATION_ID, EPOCH),
        ("ciphertext", decryption, 141, DecryptionError, CONVERSATION_ID, EPOCH),
        ("tag", decryption, 173, DecryptionError, CONVERSATION_ID, EPOCH),
        ("conversation-id-and-expected", in_ad, 1, DecryptionError, flipped_conversation, EPOCH),
        ("epoch-and-expected", in_ad, 20, DecryptionError, CONVERSATION_ID, EPOCH ^ 0x01),
    ]
    for region, catcher, offset, error, conversation, epoch in resigned:
        vectors.append(
            unwrap_fails(
                f"resigned-flipped-{region}",
                f"A byte flipped, then re-signed by the wrapper; caught by {catcher}.",
                error,
                resign(flip(envelope, offset), therapist),
                conversation=conversation,
                epoch=epoch,
            )
        )
    vectors.append(
        unwrap_fails(
            "wrapper-field-names-another",
            "The body names another therapist as wrapper but is signed by the therapist.",
            BindingError,
            resign(replace(envelope, 53, other.sign_key), therapist),
        )
    )
    for point_name, point in LOW_ORDER_POINTS.items():
        vectors.append(
            unwrap_fails(
                f"low-order-eph-pk-{point_name}",
                f"eph_pk replaced by the low-order point u = {point_name}, re-signed by the "
                "wrapper.",
                WeakKeyError,
                resign(replace(envelope, 85, point), therapist),
            )
        )
    vectors += _envelope_argument_vectors(vectors[0]["inputs"], inputs(envelope))
    version_2 = _version_2_vectors(client, therapist, other, key, envelope)
    vectors += version_2
    v2_envelope = bytes.fromhex(version_2[0]["expected"]["envelope"])
    vectors += _version_3_vectors(client, therapist, key, v2_envelope)
    return document(
        "Conversation-key envelopes (253 bytes; version 2: 293; version 3: 1,381). 'wrap' "
        "replays 'random' through wrap_conversation_key(); 'unwrap' is "
        "unwrap_conversation_key() by the recipient, whose public identity is version 2 "
        "from 'recipient_since' when that is given and not null; 'verify' is the server's "
        "verify_envelope(); 'xwing' checks the X-Wing KEM. Secrets are the 64-byte "
        "sign_seed || enc_sk; identities are public identities.",
        vectors,
    )


def rotation_file() -> str:
    week = ROTATE_AFTER_SECONDS
    cases: list[tuple[str, str, int, float, bool, bool | None]] = [
        ("fresh", "A new epoch.", 0, 0.0, False, False),
        ("below-count", "99 messages.", ROTATE_AFTER_MESSAGES - 1, 0.0, False, False),
        (
            "at-count",
            "100 messages: rotate before the 101st.",
            ROTATE_AFTER_MESSAGES,
            0.0,
            False,
            True,
        ),
        ("below-age", "Just under 7 days.", 0, week - 0.5, False, False),
        ("at-age", "Exactly 7 days.", 0, float(week), False, True),
        ("keys-changed", "A member's keys changed.", 0, 0.0, True, True),
        ("negative-count", "A negative count is an error.", -1, 0.0, False, None),
        (
            "negative-age",
            "A negative age is an error (clamp clock skew first).",
            0,
            -1.0,
            False,
            None,
        ),
    ]
    vectors: list[JsonObject] = []
    for name, comment, count, age, changed, rotate in cases:
        args: JsonObject = {
            "messages_in_epoch": count,
            "epoch_age_seconds": age,
            "keys_changed": changed,
        }
        if rotate is None:
            vectors.append(fails(name, comment, "needs_rotation", args, FormatError))
        else:
            vectors.append(ok(name, comment, "needs_rotation", args, {"rotate": rotate}))
    largest = 2**53 - 1
    vectors.append(
        ok(
            "largest-count",
            "2^53 - 1 messages, the largest count every implementation holds exactly.",
            "needs_rotation",
            {"messages_in_epoch": largest, "epoch_age_seconds": 0, "keys_changed": False},
            {"rotate": True},
        )
    )
    vectors.append(
        ok(
            "integer-age",
            "An age may be an integer as well as a fraction.",
            "needs_rotation",
            {"messages_in_epoch": 0, "epoch_age_seconds": week - 1, "keys_changed": False},
            {"rotate": False},
        )
    )
    wrong: list[tuple[str, str, JsonObject]] = [
        (
            "count-above-2-53",
            "2^53 messages: above the largest exact count.",
            {"messages_in_epoch": largest + 1},
        ),
        ("count-not-whole", "1.5 messages.", {"messages_in_epoch": 1.5}),
        ("count-boolean", "A boolean is not a count.", {"messages_in_epoch": True}),
        ("count-text", "The text '1' is not a count.", {"messages_in_epoch": "1"}),
        ("count-null", "null is not a count.", {"messages_in_epoch": None}),
        ("age-boolean", "A boolean is not an age.", {"epoch_age_seconds": False}),
        ("age-text", "The text '0' is not an age.", {"epoch_age_seconds": "0"}),
        ("age-nan", "An age that is not a number.", {"epoch_age_seconds_float": "NaN"}),
        ("age-infinite", "An infinite age.", {"epoch_age_seconds_float": "Infinity"}),
        (
            "age-minus-infinite",
            "A negative infinite age.",
            {"epoch_age_seconds_float": "-Infinity"},
        ),
        ("keys-changed-one", "1 is not a boolean, though it is truthy.", {"keys_changed": 1}),
        ("keys-changed-zero", "0 is not a boolean, though it is falsy.", {"keys_changed": 0}),
        ("keys-changed-text", "The text 'true' is not a boolean.", {"keys_changed": "true"}),
        ("keys-changed-null", "null is not a boolean.", {"keys_changed": None}),
        (
            "checked-in-order",
            "A negative count with keys changed: the count is checked first, so the answer is "
            "an error, not 'rotate'.",
            {"messages_in_epoch": -1, "keys_changed": True},
        ),
    ]
    for name, comment, changes in wrong:
        args = {"messages_in_epoch": 0, "epoch_age_seconds": 0.0, "keys_changed": False}
        if "epoch_age_seconds_float" in changes:
            del args["epoch_age_seconds"]
        args.update(changes)
        vectors.append(fails(name, comment, "needs_rotation", args, FormatError))
    return document(
        f"Epoch rotation policy: rotate when keys changed, after {ROTATE_AFTER_MESSAGES} "
        f"messages or after {ROTATE_AFTER_SECONDS} seconds.",
        vectors,
    )


def _envelope_argument_vectors(wrap_base: JsonObject, unwrap_base: JsonObject) -> list[JsonObject]:
    """Errors at wrap time, out-of-range epochs at unwrap time, an invalid expected wrapper.

    ``wrap_base`` and ``unwrap_base`` are the inputs of a good wrap and a good unwrap.
    """
    wrap_base = {**wrap_base, "random": []}
    wrapper = bytes.fromhex(unwrap_base["wrapper_identity"])
    vectors = bad_epoch_vectors("wrap", "wrap", wrap_base)
    vectors.append(
        fails(
            "wrap-long-conversation-id",
            "A 17-byte conversation id." + NO_DRAW,
            "wrap",
            {**wrap_base, "conversation_id": (CONVERSATION_ID + b"\x00").hex()},
            FormatError,
        )
    )
    vectors += bad_epoch_vectors("unwrap", "unwrap", unwrap_base)
    vectors += [
        fails(
            "unwrap-wrapper-identity-not-signed",
            "The expected wrapper's identity has a flipped signature byte: it is parsed, and "
            "refused, before the envelope is looked at.",
            "unwrap",
            {**unwrap_base, "wrapper_identity": flip(wrapper, 100).hex()},
            SignatureError,
        ),
        fails(
            "unwrap-wrapper-identity-truncated",
            "The expected wrapper's identity is 128 bytes.",
            "unwrap",
            {**unwrap_base, "wrapper_identity": wrapper[:-1].hex()},
            FormatError,
        ),
    ]
    return vectors


CREATED_AT = 1_796_479_200_000  # 2026-12-05 14:00:00 UTC, in milliseconds


def _version_2_vectors(
    client: IdentityKeyPair,
    therapist: IdentityKeyPair,
    other: IdentityKeyPair,
    key: ConversationKey,
    v1: bytes,
) -> list[JsonObject]:
    """Envelopes that sign the epoch's creation time and its key's commitment."""
    with deterministic_random("envelope/v2") as rng:
        envelope = wrap_conversation_key(
            key, CONVERSATION_ID, EPOCH, client.public, therapist, CREATED_AT
        )
    wrap_inputs: JsonObject = {
        "epoch_key": EPOCH_KEY.hex(),
        "conversation_id": CONVERSATION_ID.hex(),
        "epoch": EPOCH,
        "recipient_identity": client.public.to_bytes().hex(),
        "wrapper_secret": identity_secret(therapist).hex(),
        "created_at": CREATED_AT,
        "random": [value.hex() for value in rng.drawn],
    }
    eph_sk = rng.drawn[0]
    eph_pk = envelope[125:157]
    shared = x25519(eph_sk, client.enc_key, "test")
    unwrap_inputs: JsonObject = {
        "envelope": envelope.hex(),
        "recipient_secret": identity_secret(client).hex(),
        "wrapper_identity": therapist.public.to_bytes().hex(),
        "conversation_id": CONVERSATION_ID.hex(),
        "epoch": EPOCH,
    }

    def unwrap_fails(name: str, comment: str, data: bytes, error: type[CryptoError]) -> JsonObject:
        return fails(
            f"v2-{name}", comment, "unwrap", {**unwrap_inputs, "envelope": data.hex()}, error
        )

    # A wrapper who wraps one key but signs the commitment of another: made by hand, as an
    # honest client never would, so that the AEAD opens and only the commitment differs.
    eph_fixed = bytes(range(100, 132))
    eph_fixed_pk = x25519_base(eph_fixed)
    nonce = bytes(range(24))
    ad = (
        b"\x02"
        + CONVERSATION_ID
        + EPOCH.to_bytes(4, "big")
        + CREATED_AT.to_bytes(8, "big")
        + ConversationKey(bytes(range(32))).commitment()
        + client.enc_key
        + therapist.sign_key
        + eph_fixed_pk
        + nonce
    )
    fixed_shared = x25519(eph_fixed, client.enc_key, "test")
    wrapped = aead_encrypt(
        h(fixed_shared, _labels.ENVELOPE + eph_fixed_pk + client.enc_key), nonce, EPOCH_KEY, ad
    )
    equivocating = resign(ad + wrapped + bytes(64), therapist)
    vectors: list[JsonObject] = [
        ok(
            "v2-wrap",
            "A version-2 envelope: the epoch was made at 2026-12-05 14:00:00 UTC (milliseconds) "
            "and its key's commitment H(epoch_key, 'confide/v1/key-commitment') is signed with "
            "it. 'random' is eph_sk, then the nonce.",
            "wrap",
            wrap_inputs,
            {
                "eph_pk": eph_pk.hex(),
                "shared_secret": shared.hex(),
                "envelope_key": h(shared, _labels.ENVELOPE + eph_pk + client.enc_key).hex(),
                "envelope": envelope.hex(),
            },
        ),
        ok(
            "v2-unwrap",
            "The client unwraps it.",
            "unwrap",
            unwrap_inputs,
            {"epoch_key": EPOCH_KEY.hex()},
        ),
        ok(
            "v2-verify",
            "The server checks shape and signature and reads the fields, time and commitment "
            "included.",
            "verify",
            {"envelope": envelope.hex(), "wrapper_identity": therapist.public.to_bytes().hex()},
            {
                "version": 2,
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "recipient_enc_pk": client.enc_key.hex(),
                "wrapper_sign_pk": therapist.sign_key.hex(),
                "created_at": CREATED_AT,
                "commitment": key.commitment().hex(),
            },
        ),
        unwrap_fails("truncated", "292 bytes.", envelope[:-1], FormatError),
        unwrap_fails(
            "read-as-version-1",
            "The version byte set to 0x01: 293 bytes is no version-1 length.",
            replace(envelope, 0, b"\x01"),
            FormatError,
        ),
        unwrap_fails(
            "version-1-read-as-version-2",
            "A version-1 envelope with its version byte set to 0x02.",
            replace(v1, 0, b"\x02"),
            FormatError,
        ),
        unwrap_fails(
            "flipped-created-at", "A byte of the time flipped.", flip(envelope, 28), SignatureError
        ),
        unwrap_fails(
            "flipped-commitment",
            "A byte of the commitment flipped.",
            flip(envelope, 40),
            SignatureError,
        ),
        unwrap_fails(
            "resigned-flipped-created-at",
            "The time changed and re-signed by the wrapper: it is in the associated data.",
            resign(flip(envelope, 28), therapist),
            DecryptionError,
        ),
        unwrap_fails(
            "created-at-above-2-53",
            "A time of 2^53 milliseconds, signed by the wrapper.",
            resign(replace(envelope, 21, (2**53).to_bytes(8, "big")), therapist),
            FormatError,
        ),
        unwrap_fails(
            "commitment-of-another-key",
            "Authentic, but the commitment names another key than the one wrapped: the wrapper "
            "gives members different keys for one epoch.",
            equivocating,
            BindingError,
        ),
    ]
    for name, comment, value in (
        ("created-at-negative", "A time before 1970.", -1),
        ("created-at-above-2-53", "A time of 2^53 milliseconds.", 2**53),
        ("created-at-boolean", "A boolean is not a time.", True),
    ):
        vectors.append(
            fails(
                f"v2-wrap-{name}",
                comment + NO_DRAW,
                "wrap",
                {**wrap_inputs, "created_at": value, "random": []},
                FormatError,
            )
        )
    return vectors


def _version_3_vectors(
    client_v1: IdentityKeyPair, therapist: IdentityKeyPair, key: ConversationKey, v2: bytes
) -> list[JsonObject]:
    """X-Wing envelopes to a version-2 identity, and the downgrade a reader refuses.

    pyca's ML-KEM draws its encapsulation randomness inside OpenSSL, so no generator can
    replay a real encapsulation: the ML-KEM ciphertext here is 1,088 bytes of SHAKE256
    output, which decapsulation rejects implicitly (FIPS 203: the shared secret is then
    J(z || c)), exactly alike in every implementation. The X-Wing test vector of the draft
    checks real encapsulations."""
    client = persona_v2("client")
    mlkem_ct = hashlib.shake_256(b"confide test vector: an ML-KEM-768 ciphertext").digest(1088)
    x_eph = bytes(range(200, 232))
    xwing_ct = mlkem_ct + x25519_base(x_eph)
    nonce = bytes(range(24, 48))

    def build(ct: bytes, epoch_key: bytes = EPOCH_KEY) -> bytes:
        ad = (
            b"\x03"
            + CONVERSATION_ID
            + EPOCH.to_bytes(4, "big")
            + CREATED_AT.to_bytes(8, "big")
            + ConversationKey(epoch_key).commitment()
            + client.enc_key
            + therapist.sign_key
            + ct
            + nonce
        )
        shared = client._xwing_decapsulate(ct)
        wrapped = aead_encrypt(h(shared, _labels.ENVELOPE_XWING), nonce, epoch_key, ad)
        return resign(ad + wrapped + bytes(64), therapist)

    envelope = build(xwing_ct)
    unwrap_inputs: JsonObject = {
        "envelope": envelope.hex(),
        "recipient_secret": identity_secret(client).hex(),
        "recipient_since": PERSONA_SINCE,
        "wrapper_identity": therapist.public.to_bytes().hex(),
        "conversation_id": CONVERSATION_ID.hex(),
        "epoch": EPOCH,
    }

    def unwrap(
        name: str, comment: str, data: bytes, error: type[CryptoError] | None, **more: Any
    ) -> JsonObject:
        arguments = {**unwrap_inputs, "envelope": data.hex(), **more}
        if error is None:
            return ok(f"v3-{name}", comment, "unwrap", arguments, {"epoch_key": EPOCH_KEY.hex()})
        return fails(f"v3-{name}", comment, "unwrap", arguments, error)

    low_order = resign(replace(envelope, 125 + 1088, bytes(32)), therapist)
    return [
        unwrap(
            "unwrap",
            "A version-3 envelope to the client's version-2 identity (since 2026-12-01): "
            "shared = X-Wing.Decaps(xwing_ct), k = H(shared, 'confide/v1/envelope-xwing'). "
            "'recipient_since' gives the recipient's public identity version 2.",
            envelope,
            None,
        ),
        unwrap(
            "unwrap-by-version-1-form",
            "The same keys with a version-1 public identity open it too: the X-Wing key "
            "is derived from the X25519 secret.",
            envelope,
            None,
            recipient_since=None,
        ),
        ok(
            "v3-verify",
            "The server reads a version-3 envelope's fields as version 2's.",
            "verify",
            {"envelope": envelope.hex(), "wrapper_identity": therapist.public.to_bytes().hex()},
            {
                "version": 3,
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "recipient_enc_pk": client.enc_key.hex(),
                "wrapper_sign_pk": therapist.sign_key.hex(),
                "created_at": CREATED_AT,
                "commitment": key.commitment().hex(),
            },
        ),
        unwrap("truncated", "1,380 bytes.", envelope[:-1], FormatError),
        unwrap(
            "read-as-version-2",
            "The version byte set to 0x02: 1,381 bytes is no version-2 length.",
            replace(envelope, 0, b"\x02"),
            FormatError,
        ),
        unwrap(
            "flipped-xwing-ct",
            "A byte of the ML-KEM ciphertext flipped.",
            flip(envelope, 400),
            SignatureError,
        ),
        unwrap(
            "resigned-flipped-xwing-ct",
            "A byte of the ML-KEM ciphertext flipped and re-signed: it decapsulates to "
            "another secret (implicit rejection) and the wrapped key does not open.",
            resign(flip(envelope, 400), therapist),
            DecryptionError,
        ),
        unwrap(
            "low-order-xwing-x25519",
            "The X25519 part of the X-Wing ciphertext set to the low-order point u = 0, re-signed.",
            low_order,
            WeakKeyError,
        ),
        unwrap(
            "downgrade",
            "A version-2 (X25519 only) envelope created 2026-12-05, to a recipient whose "
            "identity holds an X-Wing key since 2026-12-01: the wrapper was served an older "
            "identity.",
            v2,
            DowngradeError,
        ),
        unwrap(
            "downgrade-made-at-the-end-of-the-grace",
            "The same with 'since' 5 minutes (300,000 ms) before the envelope's created_at: "
            "the grace for clocks that differ is over, and it is refused.",
            v2,
            DowngradeError,
            recipient_since=CREATED_AT - DOWNGRADE_GRACE_MS,
        ),
        unwrap(
            "made-within-the-grace",
            "The same version-2 envelope to a recipient whose identity holds the X-Wing key "
            "from one millisecond less than 5 minutes before it was made: within the grace "
            "(the wrapper's clock may run ahead, or it read the members just before the "
            "recipient published), and it opens.",
            v2,
            None,
            recipient_since=CREATED_AT - DOWNGRADE_GRACE_MS + 1,
        ),
        unwrap(
            "history-before-since",
            "The same version-2 envelope to a recipient whose identity holds the X-Wing key "
            "only from a day later: history, and it opens.",
            v2,
            None,
            recipient_since=CREATED_AT + 86_400_000,
        ),
        fails(
            "v3-wrap-without-created-at",
            "An envelope to a version-2 identity must sign the epoch's time: no created_at."
            + NO_DRAW,
            "wrap",
            {
                "epoch_key": EPOCH_KEY.hex(),
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "recipient_identity": client.public.to_bytes().hex(),
                "wrapper_secret": identity_secret(therapist).hex(),
                "random": [],
            },
            FormatError,
        ),
        ok(
            "xwing-kat",
            "X-Wing's own test vector 1 (draft-connolly-cfrg-xwing-kem-08, appendix C): "
            "the public key of 'seed'; 'ct' is EncapsulateDerand(pk, eseed), which an "
            "implementation that can encapsulate from a given seed checks; 'ss' is "
            "Decapsulate(seed, ct).",
            "xwing",
            {
                "seed": xwing_kat.XWING_SEED,
                "eseed": xwing_kat.XWING_ESEED,
                "ct": xwing_kat.XWING_CT,
            },
            {"pk": xwing_kat.XWING_PK, "ss": xwing_kat.XWING_SS},
        ),
    ]
