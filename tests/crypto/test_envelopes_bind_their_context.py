"""An envelope opens only for its recipient, wrapper, conversation and epoch."""

from __future__ import annotations

import uuid

import pytest

from crypto import (
    BindingError,
    ConversationKey,
    IdentityKeyPair,
    SignatureError,
    parse_envelope,
    unwrap_conversation_key,
    verify_envelope,
    wrap_conversation_key,
)


@pytest.fixture
def envelope(
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> bytes:
    return wrap_conversation_key(epoch_key, conversation_id, 4, clara.public, theo)


def test_the_server_reads_and_verifies_the_public_fields(
    envelope: bytes,
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
) -> None:
    info = verify_envelope(envelope, theo.public)
    assert info == parse_envelope(envelope)
    assert info.version == 1
    assert info.conversation_uuid == conversation_id
    assert info.epoch == 4
    assert info.recipient_enc_pk == clara.enc_key
    assert info.wrapper_sign_pk == theo.sign_key


def test_another_member_cannot_unwrap_it(
    envelope: bytes,
    theo: IdentityKeyPair,
    oscar: IdentityKeyPair,
    conversation_id: uuid.UUID,
) -> None:
    with pytest.raises(BindingError, match="wrapped to another recipient"):
        unwrap_conversation_key(envelope, oscar, theo.public, conversation_id, 4)


def test_it_is_refused_for_another_conversation_or_epoch(
    envelope: bytes, clara: IdentityKeyPair, theo: IdentityKeyPair, conversation_id: uuid.UUID
) -> None:
    with pytest.raises(BindingError, match="another conversation"):
        unwrap_conversation_key(envelope, clara, theo.public, uuid.uuid4(), 4)
    with pytest.raises(BindingError, match="for epoch 4, not epoch 5"):
        unwrap_conversation_key(envelope, clara, theo.public, conversation_id, 5)


def test_it_is_refused_when_another_wrapper_is_expected(
    envelope: bytes,
    clara: IdentityKeyPair,
    olive: IdentityKeyPair,
    conversation_id: uuid.UUID,
) -> None:
    with pytest.raises(SignatureError, match="expected wrapper's signing key"):
        unwrap_conversation_key(envelope, clara, olive.public, conversation_id, 4)
    with pytest.raises(SignatureError):
        verify_envelope(envelope, olive.public)


def test_ids_may_be_given_as_uuid_or_bytes(
    envelope: bytes,
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    by_uuid = unwrap_conversation_key(envelope, clara, theo.public, conversation_id, 4)
    by_bytes = unwrap_conversation_key(envelope, clara, theo.public, conversation_id.bytes, 4)
    assert by_uuid == by_bytes == epoch_key


def test_each_wrap_uses_a_fresh_ephemeral_key_and_nonce(
    envelope: bytes,
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    again = wrap_conversation_key(epoch_key, conversation_id, 4, clara.public, theo)
    assert again[85:117] != envelope[85:117]
    assert again[117:141] != envelope[117:141]
