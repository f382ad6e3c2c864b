"""Everything that is sealed opens again, with exactly the documented size overhead."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    ENVELOPE_SIZE,
    MAX_PLAINTEXT,
    MESSAGE_OVERHEAD,
    PUBLIC_IDENTITY_SIZE,
    PUBLIC_IDENTITY_SIZE_V2,
    BundleKind,
    ConversationKey,
    FormatError,
    IdentityKeyPair,
    PublicIdentity,
    RecoveryKey,
    open_message,
    open_text,
    parse_message,
    seal_message,
    seal_text,
    unwrap_conversation_key,
    unwrap_identity,
    verify_message,
    wrap_conversation_key,
    wrap_identity,
)
from crypto._primitives import h, xwing_public_key

SETTINGS = settings(max_examples=40, deadline=None, database=None)


def expected_bucket(length: int) -> int:
    """The padded size, computed independently of crypto.padding."""
    bucket = 256
    while bucket < length + 4:
        bucket *= 2
    return bucket


def test_the_message_overhead_is_173_bytes() -> None:
    assert MESSAGE_OVERHEAD == 93 + 16 + 64 == 173


@pytest.mark.parametrize("size", [0, 1, 32, 1234, 65536])
def test_messages_of_the_size_matrix_round_trip_with_exact_overhead(
    clara: IdentityKeyPair,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    epoch_key: ConversationKey,
    size: int,
) -> None:
    plaintext = bytes(i % 251 for i in range(size))
    wire = seal_message(plaintext, epoch_key, conversation_id, 9, clara, message_id)
    assert len(wire) == expected_bucket(size) + 173
    assert verify_message(wire, clara.public).padded_size == expected_bucket(size)
    opened = open_message(wire, epoch_key, clara.public, conversation_id, 9, message_id)
    assert opened == plaintext


@pytest.mark.parametrize("text", ["", "\U0001f642", "Merci \U0001f49c \u00e0 jeudi \u2014 \u65e5"])
def test_text_of_the_size_matrix_round_trips(
    clara: IdentityKeyPair,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    epoch_key: ConversationKey,
    text: str,
) -> None:
    wire = seal_text(text, epoch_key, conversation_id, 0, clara, message_id)
    assert len(wire) == expected_bucket(len(text.encode())) + 173
    assert open_text(wire, epoch_key, clara.public, conversation_id, 0, message_id) == text


def test_the_largest_plaintext_fits_and_one_more_byte_does_not(
    clara: IdentityKeyPair, conversation_id: uuid.UUID, epoch_key: ConversationKey
) -> None:
    wire = seal_message(bytes(MAX_PLAINTEXT), epoch_key, conversation_id, 0, clara, uuid.uuid4())
    assert len(wire) == 2**20 + 173
    assert open_message(wire, epoch_key, clara.public, conversation_id, 0) == bytes(MAX_PLAINTEXT)
    with pytest.raises(FormatError, match="at most 1048572 bytes fit in a message"):
        seal_message(bytes(MAX_PLAINTEXT + 1), epoch_key, conversation_id, 0, clara, uuid.uuid4())


@SETTINGS
@given(plaintext=st.binary(max_size=5000), epoch=st.integers(0, 2**32 - 1))
def test_arbitrary_messages_round_trip_with_exact_overhead(
    clara: IdentityKeyPair, plaintext: bytes, epoch: int
) -> None:
    key, conversation, message = ConversationKey.generate(), uuid.uuid4(), uuid.uuid4()
    wire = seal_message(plaintext, key, conversation, epoch, clara, message)
    assert len(wire) == expected_bucket(len(plaintext)) + MESSAGE_OVERHEAD
    info = parse_message(wire)
    assert (info.conversation_uuid, info.epoch, info.client_message_uuid) == (
        conversation,
        epoch,
        message,
    )
    assert open_message(wire, key, clara.public, conversation, epoch, message) == plaintext


@SETTINGS
@given(text=st.text(max_size=500))
def test_arbitrary_text_round_trips(clara: IdentityKeyPair, text: str) -> None:
    key, conversation, message = ConversationKey.generate(), uuid.uuid4(), uuid.uuid4()
    wire = seal_text(text, key, conversation, 1, clara, message)
    assert open_text(wire, key, clara.public, conversation, 1) == text


@SETTINGS
@given(epoch=st.integers(0, 2**32 - 1), conversation=st.binary(min_size=16, max_size=16))
def test_conversation_keys_round_trip_through_envelopes(
    clara: IdentityKeyPair, theo: IdentityKeyPair, epoch: int, conversation: bytes
) -> None:
    key = ConversationKey.generate()
    envelope = wrap_conversation_key(key, conversation, epoch, clara.public, theo)
    assert len(envelope) == ENVELOPE_SIZE == 253
    assert unwrap_conversation_key(envelope, clara, theo.public, conversation, epoch) == key


def test_a_member_can_wrap_the_key_to_themselves(
    theo: IdentityKeyPair, conversation_id: uuid.UUID, epoch_key: ConversationKey
) -> None:
    envelope = wrap_conversation_key(epoch_key, conversation_id, 0, theo.public, theo)
    unwrapped = unwrap_conversation_key(envelope, theo, theo.public, conversation_id, 0)
    assert unwrapped == epoch_key


def test_identities_round_trip_through_their_public_and_bundle_forms() -> None:
    identity = IdentityKeyPair.generate()
    encoded = identity.public.to_bytes()
    assert len(encoded) == PUBLIC_IDENTITY_SIZE_V2 == 1353
    assert PublicIdentity.from_bytes(encoded) == identity.public
    version_1 = IdentityKeyPair(identity._secret_material())
    assert len(version_1.public.to_bytes()) == PUBLIC_IDENTITY_SIZE == 129
    # The X-Wing key comes from the Ed25519 seed, never from the X25519 secret, which a
    # quantum computer recovers from enc_pk (crypto/SPEC.md, "Version 2: an X-Wing key").
    sign_seed, enc_secret = identity._secret_material()[:32], identity._secret_material()[32:]
    label = b"confide/v1/xwing-seed"
    assert identity.public.xwing_key == xwing_public_key(h(sign_seed, label))
    assert identity.public.xwing_key != xwing_public_key(h(enc_secret, label))
    assert version_1.public.fingerprint() == identity.public.fingerprint()
    recovery = RecoveryKey.generate()
    blob = wrap_identity(identity, recovery.wrapping_key(), BundleKind.RECOVERY)
    assert len(blob) == 106
    restored = RecoveryKey.from_display(recovery.display())
    unwrapped = unwrap_identity(blob, restored.wrapping_key(), identity.public)
    assert unwrapped == identity
    assert unwrapped.public == identity.public
    assert unwrap_identity(blob, restored.wrapping_key(), version_1.public).public.version == 1
