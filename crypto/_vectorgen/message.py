"""Vectors for message padding and sealed messages."""

from __future__ import annotations

from .. import _labels
from ..conversation import ConversationKey
from ..errors import (
    BindingError,
    CryptoError,
    DecryptionError,
    FormatError,
    SignatureError,
    UnsupportedVersionError,
)
from ..identity import IdentityKeyPair
from ..message import MessageOrder, _seal_padded, message_reference, seal_message
from ..padding import MAX_PLAINTEXT, pad
from .common import (
    CONVERSATION_ID,
    MESSAGE_ID,
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


def _data(size: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(size))


def padding_file() -> str:
    vectors: list[JsonObject] = []
    for size in (0, 1, 32, 252, 253, 1234):
        data = _data(size)
        vectors.append(
            ok(
                f"pad-{size}",
                f"{size} bytes of data.",
                "pad",
                {"data": data.hex()},
                {"padded": pad(data).hex()},
            )
        )
    for length, bucket in (
        (0, 256),
        (252, 256),
        (253, 512),
        (1020, 1024),
        (65536, 131072),
        (MAX_PLAINTEXT, 1048576),
    ):
        vectors.append(
            ok(
                f"size-{length}",
                f"The bucket of a {length}-byte plaintext.",
                "padded_size",
                {"length": length},
                {"padded_size": bucket},
            )
        )
    vectors.append(
        fails(
            "size-too-large",
            "One byte over MAX_PLAINTEXT.",
            "padded_size",
            {"length": MAX_PLAINTEXT + 1},
            FormatError,
        )
    )
    good = pad(b"hello")
    bad: list[tuple[str, str, bytes]] = [
        ("unpad-empty", "Empty input.", b""),
        ("unpad-not-a-bucket", "300 bytes is not a power of two.", good + bytes(44)),
        (
            "unpad-below-smallest-bucket",
            "128 bytes is below the smallest bucket.",
            (5).to_bytes(4, "big") + b"hello" + bytes(119),
        ),
        (
            "unpad-length-too-large",
            "Declares 253 bytes in a 256-byte buffer.",
            replace(good, 0, (253).to_bytes(4, "big")),
        ),
        ("unpad-non-zero-padding", "A padding byte is 0x01.", replace(good, 200, b"\x01")),
        ("unpad-non-zero-last-byte", "The last padding byte is 0x80.", replace(good, 255, b"\x80")),
    ]
    vectors.append(
        ok(
            "unpad-hello",
            "Unpadding returns the data.",
            "unpad",
            {"padded": good.hex()},
            {"data": b"hello".hex()},
        )
    )
    vectors.append(
        ok(
            "unpad-larger-bucket",
            "Data padded to more than its minimal bucket is accepted.",
            "unpad",
            {"padded": (good + bytes(256)).hex()},
            {"data": b"hello".hex()},
        )
    )
    vectors += [
        fails(name, comment, "unpad", {"padded": data.hex()}, FormatError)
        for name, comment, data in bad
    ]
    vectors += [
        fails(name, comment, "padded_size", {"length": length}, FormatError)
        for name, comment, length in (
            ("size-negative", "A negative length is an error, not the smallest bucket.", -1),
            ("size-not-whole", "A length of 1.5 bytes is not an integer.", 1.5),
            ("size-boolean", "A boolean is not a length, though some languages count it 1.", True),
            ("size-text", "The text '5' is not a length.", "5"),
        )
    ]
    return document(
        "Padding: u32(len) || data || zeros to the smallest bucket 2^k, 8 <= k <= 20.",
        vectors,
    )


def resign(wire: bytes, sender: IdentityKeyPair) -> bytes:
    """Replace the signature with the sender's signature of the (altered) header and ct."""
    signed = wire[:-64]
    return signed + sender._sign(_labels.MESSAGE_SIG + signed)


def message_file() -> str:
    client = persona("client")
    therapist = persona("therapist")
    other = persona("other-client")
    key = ConversationKey(EPOCH_KEY)
    vectors: list[JsonObject] = []
    samples: list[tuple[str, str, bytes]] = [
        ("empty", "Empty plaintext: one 256-byte bucket.", b""),
        ("one-byte", "One byte.", b"\x00"),
        ("32-bytes", "32 bytes.", _data(32)),
        ("fills-bucket", "252 bytes: exactly fills the 256-byte bucket.", _data(252)),
        ("next-bucket", "253 bytes: needs the 512-byte bucket.", _data(253)),
        ("1234-bytes", "1234 bytes: 2048-byte bucket.", _data(1234)),
        ("emoji-text", "UTF-8 text with an emoji.", "Hello \U0001f642 \u00e7a va?".encode()),
    ]
    wire = b""
    for name, comment, plaintext in samples:
        with deterministic_random(f"message/{name}") as rng:
            sealed = seal_message(plaintext, key, CONVERSATION_ID, EPOCH, client, MESSAGE_ID)
        if name == "32-bytes":
            wire = sealed
        vectors.append(
            ok(
                f"seal-{name}",
                comment + " 'random' is the nonce.",
                "seal",
                {
                    "plaintext": plaintext.hex(),
                    "epoch_key": EPOCH_KEY.hex(),
                    "conversation_id": CONVERSATION_ID.hex(),
                    "epoch": EPOCH,
                    "sender_secret": identity_secret(client).hex(),
                    "client_message_id": MESSAGE_ID.hex(),
                    "random": [value.hex() for value in rng.drawn],
                },
                {
                    "message_key": key._message_key.hex(),
                    "padded_size": len(pad(plaintext)),
                    "wire": sealed.hex(),
                    "reference": message_reference(sealed).hex(),
                },
            )
        )

    def inputs(
        data: bytes,
        sender: IdentityKeyPair,
        conversation: bytes,
        epoch: int,
        message_id: bytes | None,
        epoch_key: bytes,
    ) -> JsonObject:
        return {
            "wire": data.hex(),
            "epoch_key": epoch_key.hex(),
            "sender_identity": sender.public.to_bytes().hex(),
            "conversation_id": conversation.hex(),
            "epoch": epoch,
            "client_message_id": None if message_id is None else message_id.hex(),
        }

    def open_fails(
        name: str,
        comment: str,
        error: type[CryptoError],
        data: bytes,
        sender: IdentityKeyPair = client,
        conversation: bytes = CONVERSATION_ID,
        epoch: int = EPOCH,
        message_id: bytes | None = MESSAGE_ID,
        epoch_key: bytes = EPOCH_KEY,
    ) -> JsonObject:
        arguments = inputs(data, sender, conversation, epoch, message_id, epoch_key)
        return fails(name, comment, "open", arguments, error)

    plaintext = _data(32)
    vectors += [
        ok(
            "open",
            "The therapist opens the client's message.",
            "open",
            inputs(wire, client, CONVERSATION_ID, EPOCH, MESSAGE_ID, EPOCH_KEY),
            {"plaintext": plaintext.hex()},
        ),
        ok(
            "open-without-message-id",
            "The message id check is optional.",
            "open",
            inputs(wire, client, CONVERSATION_ID, EPOCH, None, EPOCH_KEY),
            {"plaintext": plaintext.hex()},
        ),
        ok(
            "verify",
            "The server checks shape and signature and reads the header.",
            "verify",
            {"wire": wire.hex(), "sender_identity": client.public.to_bytes().hex()},
            {
                "version": 1,
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "sender_sign_pk": client.sign_key.hex(),
                "client_message_id": MESSAGE_ID.hex(),
                "padded_size": 256,
                "order": None,
            },
        ),
        fails(
            "verify-wrong-sender",
            "The server expects another sender.",
            "verify",
            {"wire": wire.hex(), "sender_identity": therapist.public.to_bytes().hex()},
            SignatureError,
        ),
        open_fails("wrong-key", "Another epoch key.", DecryptionError, wire, epoch_key=bytes(32)),
        open_fails(
            "wrong-sender-expected",
            "Signed by the client, the therapist expected.",
            SignatureError,
            wire,
            sender=therapist,
        ),
        open_fails(
            "wrong-conversation-expected",
            "Another conversation expected.",
            BindingError,
            wire,
            conversation=OTHER_CONVERSATION_ID,
        ),
        open_fails(
            "wrong-epoch-expected", "Epoch 8 expected.", BindingError, wire, epoch=EPOCH + 1
        ),
        open_fails(
            "wrong-message-id-expected",
            "Another client message id expected.",
            BindingError,
            wire,
            message_id=OTHER_MESSAGE_ID,
        ),
        open_fails("empty", "Empty input.", FormatError, b""),
        open_fails("truncated", "One byte short.", FormatError, wire[:-1]),
        open_fails("over-long", "One extra byte.", FormatError, wire + b"\x00"),
        open_fails(
            "unknown-version", "Version 0x03.", UnsupportedVersionError, replace(wire, 0, b"\x03")
        ),
    ]
    ct_end = len(wire) - 64 - 16
    regions = (
        ("version", 0),
        ("conversation-id", 1),
        ("epoch", 20),
        ("sender-sign-pk", 21),
        ("client-message-id", 53),
        ("nonce", 69),
        ("ciphertext", 93),
        ("tag", ct_end),
        ("signature", len(wire) - 1),
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
                flip(wire, offset),
            )
        )
    in_ad = "decryption (the field is in the associated data)"
    resigned: list[tuple[str, str, int, type[CryptoError], bytes, int, bytes | None]] = [
        (
            "conversation-id",
            "the binding check",
            1,
            BindingError,
            CONVERSATION_ID,
            EPOCH,
            MESSAGE_ID,
        ),
        ("epoch", "the binding check", 20, BindingError, CONVERSATION_ID, EPOCH, MESSAGE_ID),
        (
            "client-message-id",
            "the binding check",
            53,
            BindingError,
            CONVERSATION_ID,
            EPOCH,
            MESSAGE_ID,
        ),
        ("nonce", "decryption", 69, DecryptionError, CONVERSATION_ID, EPOCH, MESSAGE_ID),
        ("ciphertext", "decryption", 93, DecryptionError, CONVERSATION_ID, EPOCH, MESSAGE_ID),
        ("tag", "decryption", ct_end, DecryptionError, CONVERSATION_ID, EPOCH, MESSAGE_ID),
        (
            "conversation-id-and-expected",
            in_ad,
            1,
            DecryptionError,
            flip(CONVERSATION_ID, 0),
            EPOCH,
            MESSAGE_ID,
        ),
        ("epoch-and-expected", in_ad, 20, DecryptionError, CONVERSATION_ID, EPOCH ^ 1, MESSAGE_ID),
        ("client-message-id-unchecked", in_ad, 53, DecryptionError, CONVERSATION_ID, EPOCH, None),
    ]
    for region, catcher, offset, error, conversation, epoch, message_id in resigned:
        vectors.append(
            open_fails(
                f"resigned-flipped-{region}",
                f"A byte flipped, then re-signed by the sender; caught by {catcher}.",
                error,
                resign(flip(wire, offset), client),
                conversation=conversation,
                epoch=epoch,
                message_id=message_id,
            )
        )
    vectors.append(
        open_fails(
            "sender-field-names-another",
            "The header names another client as sender but is signed by the client.",
            BindingError,
            resign(replace(wire, 21, other.sign_key), client),
        )
    )

    def forged(name: str, padded: bytes) -> bytes:
        with deterministic_random(f"message/forged/{name}"):
            return _seal_padded(padded, key, CONVERSATION_ID, EPOCH, client, MESSAGE_ID)

    good = pad(b"hello")
    vectors += [
        open_fails(
            "padded-size-not-a-bucket",
            "Authentic, but the padded plaintext is 300 "
            "bytes, so the wire length is not a bucket plus 173.",
            FormatError,
            forged("not-a-bucket", good + bytes(44)),
        ),
        open_fails(
            "padding-length-too-large",
            "Authentic, but the length prefix is 253 in a 256-byte bucket.",
            FormatError,
            forged("length", replace(good, 0, (253).to_bytes(4, "big"))),
        ),
        open_fails(
            "padding-not-zero",
            "Authentic, but a padding byte is not zero.",
            FormatError,
            forged("not-zero", replace(good, 255, b"\x01")),
        ),
        fails(
            "open-text-invalid-utf8",
            "Authentic, but the plaintext is not UTF-8 (open_text).",
            "open_text",
            inputs(
                forged("utf8", pad(b"\xff\xfe")),
                client,
                CONVERSATION_ID,
                EPOCH,
                MESSAGE_ID,
                EPOCH_KEY,
            ),
            FormatError,
        ),
    ]
    seal_32 = next(vector["inputs"] for vector in vectors if vector["name"] == "seal-32-bytes")
    good_open = inputs(wire, client, CONVERSATION_ID, EPOCH, MESSAGE_ID, EPOCH_KEY)
    vectors += _argument_vectors(seal_32, good_open)
    vectors += _version_2_vectors(client, therapist, key, wire)
    return document(
        "Messages: header(93) || AEAD(H(epoch_key, 'confide/v1/message-key'), nonce, "
        "pad(plaintext), 'confide/v1/message' || header) || Ed25519 signature(64). 'seal' "
        "replays 'random'; 'open' is open_message() (client_message_id null: not checked); "
        "'open_text' adds strict UTF-8 decoding; 'verify' is the server's verify_message().",
        vectors,
    )


def _argument_vectors(seal_base: JsonObject, open_base: JsonObject) -> list[JsonObject]:
    """Errors at seal time, out-of-range epochs at open time, an invalid expected sender.

    ``seal_base`` and ``open_base`` are the inputs of a good seal and a good open.
    """
    seal_base = {**seal_base, "random": []}
    public = bytes.fromhex(open_base["sender_identity"])
    wire = bytes.fromhex(open_base["wire"])
    vectors = bad_epoch_vectors("seal", "seal", seal_base)
    vectors += [
        fails(
            "seal-short-conversation-id",
            "A 15-byte conversation id." + NO_DRAW,
            "seal",
            {**seal_base, "conversation_id": CONVERSATION_ID[:15].hex()},
            FormatError,
        ),
        fails(
            "seal-long-client-message-id",
            "A 17-byte client message id." + NO_DRAW,
            "seal",
            {**seal_base, "client_message_id": (MESSAGE_ID + b"\x00").hex()},
            FormatError,
        ),
    ]
    vectors += bad_epoch_vectors("open", "open", open_base)
    vectors += [
        fails(
            "open-sender-identity-not-signed",
            "The expected sender's identity has a flipped signature byte: it is parsed, and "
            "refused, before the message is looked at.",
            "open",
            {**open_base, "sender_identity": flip(public, 100).hex()},
            SignatureError,
        ),
        fails(
            "open-unknown-version-and-bad-epoch",
            "Version 0x03 and epoch 2^32: the input's version is checked before the epoch "
            "argument.",
            "open",
            {**open_base, "wire": replace(wire, 0, b"\x03").hex(), "epoch": 2**32},
            UnsupportedVersionError,
        ),
        fails(
            "open-bad-sender-and-unknown-version",
            "An expected sender whose identity does not verify, and a message of version "
            "0x03: the identity is parsed first.",
            "open",
            {
                **open_base,
                "wire": replace(wire, 0, b"\x03").hex(),
                "sender_identity": flip(public, 100).hex(),
            },
            SignatureError,
        ),
        fails(
            "open-sender-identity-unknown-version",
            "The expected sender's identity has version 0x03.",
            "open",
            {**open_base, "sender_identity": replace(public, 0, b"\x03").hex()},
            UnsupportedVersionError,
        ),
    ]
    return vectors


# A fixed order for the version-2 vectors: the client's tab "chain", its third message,
# written at 2026-12-05 14:10:00 UTC, after the message whose wire is the 32-byte sample.
CHAIN = bytes.fromhex("c4a1d2e3f4a5b6c7")
SENT_AT = 1_796_479_800_000


def _order_json(order: MessageOrder) -> JsonObject:
    return {
        "chain": order.chain.hex(),
        "counter": order.counter,
        "sent_at": order.sent_at,
        "previous": order.previous.hex(),
    }


def _version_2_vectors(
    client: IdentityKeyPair, therapist: IdentityKeyPair, key: ConversationKey, v1_wire: bytes
) -> list[JsonObject]:
    """Sealing and opening messages that carry the sender's order, and their failures."""
    order = MessageOrder(CHAIN, 3, SENT_AT, message_reference(v1_wire))
    plaintext = _data(32)
    with deterministic_random("message/v2") as rng:
        wire = seal_message(plaintext, key, CONVERSATION_ID, EPOCH, client, MESSAGE_ID, order)
    seal_inputs: JsonObject = {
        "plaintext": plaintext.hex(),
        "epoch_key": EPOCH_KEY.hex(),
        "conversation_id": CONVERSATION_ID.hex(),
        "epoch": EPOCH,
        "sender_secret": identity_secret(client).hex(),
        "client_message_id": MESSAGE_ID.hex(),
        "order": _order_json(order),
        "random": [value.hex() for value in rng.drawn],
    }
    first = MessageOrder(CHAIN, 1, SENT_AT - 60_000, bytes(32))
    with deterministic_random("message/v2-first") as rng_first:
        first_wire = seal_message(b"", key, CONVERSATION_ID, EPOCH, client, MESSAGE_ID, first)
    open_inputs: JsonObject = {
        "wire": wire.hex(),
        "epoch_key": EPOCH_KEY.hex(),
        "sender_identity": client.public.to_bytes().hex(),
        "conversation_id": CONVERSATION_ID.hex(),
        "epoch": EPOCH,
        "client_message_id": MESSAGE_ID.hex(),
    }

    def open_fails(name: str, comment: str, data: bytes, error: type[CryptoError]) -> JsonObject:
        return fails(f"v2-{name}", comment, "open", {**open_inputs, "wire": data.hex()}, error)

    vectors = [
        ok(
            "v2-seal",
            "A version-2 message: the sender's chain, counter 3, its clock in milliseconds and "
            "the reference of the newest message it held (the 'seal-32-bytes' wire). "
            "'random' is the nonce; the chain id is an argument, not drawn here.",
            "seal",
            seal_inputs,
            {
                "message_key": key._message_key.hex(),
                "padded_size": 256,
                "wire": wire.hex(),
                "reference": message_reference(wire).hex(),
            },
        ),
        ok(
            "v2-seal-first",
            "The chain's first message, when the sender held no message: previous is 32 zero "
            "bytes.",
            "seal",
            {
                **seal_inputs,
                "plaintext": "",
                "order": _order_json(first),
                "random": [value.hex() for value in rng_first.drawn],
            },
            {
                "message_key": key._message_key.hex(),
                "padded_size": 256,
                "wire": first_wire.hex(),
                "reference": message_reference(first_wire).hex(),
            },
        ),
        ok(
            "v2-open",
            "The therapist opens it.",
            "open",
            open_inputs,
            {"plaintext": plaintext.hex()},
        ),
        ok(
            "v2-verify",
            "The server checks shape and signature and reads the header, order included.",
            "verify",
            {"wire": wire.hex(), "sender_identity": client.public.to_bytes().hex()},
            {
                "version": 2,
                "conversation_id": CONVERSATION_ID.hex(),
                "epoch": EPOCH,
                "sender_sign_pk": client.sign_key.hex(),
                "client_message_id": MESSAGE_ID.hex(),
                "padded_size": 256,
                "order": _order_json(order),
            },
        ),
        open_fails("truncated", "One byte short of 256 + 225.", wire[:-1], FormatError),
        open_fails(
            "read-as-version-1",
            "The version byte set to 0x01: 481 bytes is no version-1 length (256 + 173 = 429).",
            replace(wire, 0, b"\x01"),
            FormatError,
        ),
        open_fails(
            "version-1-read-as-version-2",
            "A version-1 message with its version byte set to 0x02: 429 bytes is no version-2 "
            "length.",
            replace(v1_wire, 0, b"\x02"),
            FormatError,
        ),
    ]
    regions = (("chain", 69), ("counter", 80), ("sent-at", 84), ("previous", 100), ("nonce", 121))
    for region, offset in regions:
        vectors.append(
            open_fails(
                f"flipped-{region}",
                f"A byte of {region} flipped; the signature no longer verifies.",
                flip(wire, offset),
                SignatureError,
            )
        )
        vectors.append(
            open_fails(
                f"resigned-flipped-{region}",
                f"A byte of {region} flipped, then re-signed by the sender: the field is in the "
                "associated data, so decryption fails.",
                resign(flip(wire, offset), client),
                DecryptionError,
            )
        )
    vectors += [
        open_fails(
            "counter-zero",
            "Counter 0, signed by the sender: counters start at 1. Checked with the shape, "
            "before the signature.",
            resign(replace(wire, 77, bytes(4)), client),
            FormatError,
        ),
        open_fails(
            "sent-at-above-2-53",
            "A time of 2^53 milliseconds, signed by the sender: above the largest exact integer.",
            resign(replace(wire, 81, (2**53).to_bytes(8, "big")), client),
            FormatError,
        ),
        fails(
            "v2-verify-wrong-sender",
            "The server expects another sender.",
            "verify",
            {"wire": wire.hex(), "sender_identity": therapist.public.to_bytes().hex()},
            SignatureError,
        ),
    ]
    for name, comment, changes in (
        ("counter-zero", "Counter 0: a chain counts from 1.", {"counter": 0}),
        ("counter-above-u32", "Counter 2^32.", {"counter": 2**32}),
        ("counter-boolean", "A boolean is not a counter.", {"counter": True}),
        ("sent-at-negative", "A time before 1970.", {"sent_at": -1}),
        ("sent-at-above-2-53", "A time of 2^53 milliseconds.", {"sent_at": 2**53}),
        ("sent-at-not-whole", "A time with a fraction of a millisecond.", {"sent_at": 1.5}),
        ("short-chain", "A 7-byte chain id.", {"chain": CHAIN[:7].hex()}),
        ("short-previous", "A 31-byte previous reference.", {"previous": bytes(31).hex()}),
    ):
        vectors.append(
            fails(
                f"v2-seal-{name}",
                comment + NO_DRAW,
                "seal",
                {**seal_inputs, "order": {**_order_json(order), **changes}, "random": []},
                FormatError,
            )
        )
    return vectors
