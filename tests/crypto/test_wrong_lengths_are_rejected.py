"""Inputs of the wrong length or type are refused with a message that says what is wrong."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest

from crypto import (
    BundleKind,
    ConversationKey,
    FormatError,
    IdentityKeyPair,
    PublicIdentity,
    RecoveryKey,
    UnsupportedVersionError,
    WrappingKey,
    b64decode,
    derive_password_keys,
    open_message,
    parse_bundle,
    parse_envelope,
    parse_message,
    seal_message,
    unpad,
    verify_safety_qr,
    wrap_conversation_key,
    wrap_identity,
)
from crypto.kdf import new_salt

# Each case: what is called, and the exact message expected (matched as a full string).
CASES: list[tuple[str, Callable[[], object], str]] = [
    (
        "conversation key",
        lambda: ConversationKey(bytes(31)),
        "The conversation key must be exactly 32 bytes long (got 31)",
    ),
    (
        "wrapping key",
        lambda: WrappingKey(bytes(33)),
        "The wrapping key must be exactly 32 bytes long (got 33)",
    ),
    (
        "recovery key",
        lambda: RecoveryKey(b""),
        "The recovery key must be exactly 32 bytes long (got 0)",
    ),
    (
        "identity secret",
        lambda: IdentityKeyPair(bytes(63)),
        "The identity secret must be exactly 64 bytes long (got 63)",
    ),
    (
        "public identity",
        lambda: PublicIdentity(b"\x01" + bytes(127)),
        "A public identity must be exactly 129 bytes long (got 128)",
    ),
    ("empty public identity", lambda: PublicIdentity(b""), "The public identity is empty"),
    (
        "key bundle",
        lambda: parse_bundle(b"\x01" + bytes(106)),
        "A key bundle must be exactly 106 bytes long (got 107)",
    ),
    ("bundle kind", lambda: parse_bundle(b"\x01\x09" + bytes(104)), "Unknown key bundle kind 0x09"),
    (
        "envelope",
        lambda: parse_envelope(b"\x01" + bytes(251)),
        "A version 1 envelope must be exactly 253 bytes long (got 252)",
    ),
    (
        "version-2 envelope",
        lambda: parse_envelope(b"\x02" + bytes(291)),
        "A version 2 envelope must be exactly 293 bytes long (got 292)",
    ),
    (
        "message",
        lambda: parse_message(b"\x01" + bytes(427)),
        "A version 1 message must be 173 bytes longer than a padding bucket (a power of two "
        "from 256 to 1048576); this one is 428 bytes long",
    ),
    (
        "version-2 message",
        lambda: parse_message(b"\x02" + bytes(428)),
        "A version 2 message must be 225 bytes longer than a padding bucket (a power of two "
        "from 256 to 1048576); this one is 429 bytes long",
    ),
    ("empty message", lambda: parse_message(b""), "The message is empty"),
    (
        "padded plaintext",
        lambda: unpad(bytes(300)),
        "The padded plaintext is 300 bytes long, which is not a padding bucket (a power of two "
        "from 256 to 1048576)",
    ),
    (
        "salt",
        lambda: derive_password_keys("pw", bytes(15), None),  # type: ignore[arg-type]
        "The salt must be exactly 16 bytes long (got 15)",
    ),
    (
        "safety QR payload",
        lambda: verify_safety_qr(b"\x01" + bytes(63), None, None),  # type: ignore[arg-type]
        "The safety QR payload must be exactly 65 bytes long (got 64)",
    ),
    (
        "conversation id",
        lambda: seal_with_conversation_id(bytes(15)),
        "The conversation id must be a UUID or exactly 16 bytes long (got 15)",
    ),
    (
        "base64url padding",
        lambda: b64decode("AA=="),
        "Base64url input must not be padded: '=' at position 2",
    ),
    (
        "base64url length",
        lambda: b64decode("AAAAA"),
        "Base64url input has an impossible length of 5 characters (4k+1)",
    ),
    (
        "recovery display length",
        lambda: RecoveryKey.from_display("ABCD"),
        "A recovery key has 56 letters and digits, not 4",
    ),
]


def seal_with_conversation_id(conversation_id: bytes) -> object:
    identity = IdentityKeyPair.generate()
    return seal_message(b"", ConversationKey(bytes(32)), conversation_id, 0, identity, bytes(16))


@pytest.mark.parametrize(("what", "call", "message"), CASES, ids=[case[0] for case in CASES])
def test_a_wrong_length_is_refused_with_an_exact_message(
    what: str, call: Callable[[], object], message: str
) -> None:
    with pytest.raises(FormatError, match=f"^{re.escape(message)}$"):
        call()


@pytest.mark.parametrize(
    ("what", "call", "message"),
    [
        (
            "message",
            lambda: parse_message(b"\x07" + bytes(428)),
            "Unsupported message format version 0x07",
        ),
        (
            "envelope",
            lambda: parse_envelope(b"\x00" + bytes(252)),
            "Unsupported envelope format version 0x00",
        ),
        (
            "bundle",
            lambda: parse_bundle(b"\x02" + bytes(105)),
            "Unsupported key bundle format version 0x02",
        ),
        (
            "identity",
            lambda: PublicIdentity(b"\xff" + bytes(128)),
            "Unsupported public identity format version 0xff",
        ),
    ],
)
def test_an_unknown_version_is_named_in_hex(
    what: str, call: Callable[[], object], message: str
) -> None:
    with pytest.raises(UnsupportedVersionError, match=f"^{re.escape(message)}$"):
        call()


def test_the_version_is_checked_before_the_length() -> None:
    with pytest.raises(UnsupportedVersionError):
        parse_envelope(b"\x04")


def test_a_message_id_must_be_16_bytes_or_a_uuid(
    clara: IdentityKeyPair, conversation_id: uuid.UUID, epoch_key: ConversationKey
) -> None:
    with pytest.raises(
        FormatError,
        match="^The client message id must be a UUID or exactly "
        r"16 bytes long \(got 17\)$",
    ):
        seal_message(b"", epoch_key, conversation_id, 0, clara, bytes(17))
    with pytest.raises(
        FormatError, match="^The client message id must be a UUID or 16 bytes, not str$"
    ):
        seal_message(b"", epoch_key, conversation_id, 0, clara, str(uuid.uuid4()))  # type: ignore[arg-type]


@pytest.mark.parametrize("epoch", [-1, 2**32, True, 1.0])
def test_an_epoch_outside_u32_is_refused(
    clara: IdentityKeyPair, conversation_id: uuid.UUID, epoch_key: ConversationKey, epoch: object
) -> None:
    with pytest.raises(FormatError, match="^The epoch must be an integer from 0 to 4294967295"):
        wrap_conversation_key(epoch_key, conversation_id, epoch, clara.public, clara)  # type: ignore[arg-type]


def test_arguments_of_the_wrong_type_are_refused_with_format_error(
    clara: IdentityKeyPair, conversation_id: uuid.UUID, epoch_key: ConversationKey
) -> None:
    with pytest.raises(
        FormatError, match="^The conversation key must be a ConversationKey, not bytes$"
    ):
        seal_message(b"", bytes(32), conversation_id, 0, clara, uuid.uuid4())  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="^A message must be bytes, not str$"):
        open_message("01", epoch_key, clara.public, conversation_id, 0)  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="^The wrapping key must be a WrappingKey, not bytes$"):
        wrap_identity(clara, bytes(32), BundleKind.PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="^Unknown key bundle kind 0x03$"):
        wrap_identity(clara, WrappingKey(bytes(32)), 3)  # type: ignore[arg-type]


def test_a_fresh_salt_is_16_bytes() -> None:
    assert len(new_salt()) == 16
    assert new_salt() != new_salt()
