"""A message opens only under its key, from its sender, in its conversation and epoch."""

from __future__ import annotations

import uuid

import pytest

from crypto import (
    BindingError,
    ConversationKey,
    DecryptionError,
    FormatError,
    IdentityKeyPair,
    SignatureError,
    open_message,
    open_text,
    parse_message,
    seal_message,
    verify_message,
)


@pytest.fixture
def wire(
    clara: IdentityKeyPair,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> bytes:
    return seal_message(b"Can we move Thursday?", epoch_key, conversation_id, 2, clara, message_id)


def test_the_server_reads_and_verifies_the_header(
    wire: bytes, clara: IdentityKeyPair, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> None:
    info = verify_message(wire, clara.public)
    assert info == parse_message(wire)
    assert (info.version, info.epoch, info.padded_size) == (1, 2, 256)
    assert info.conversation_uuid == conversation_id
    assert info.client_message_uuid == message_id
    assert info.sender_sign_pk == clara.sign_key


def test_another_epoch_key_cannot_decrypt_it(
    wire: bytes, clara: IdentityKeyPair, conversation_id: uuid.UUID
) -> None:
    with pytest.raises(DecryptionError, match="epoch key is wrong"):
        open_message(wire, ConversationKey.generate(), clara.public, conversation_id, 2)


def test_it_cannot_be_attributed_to_another_sender(
    wire: bytes,
    theo: IdentityKeyPair,
    epoch_key: ConversationKey,
    conversation_id: uuid.UUID,
) -> None:
    with pytest.raises(SignatureError, match="expected sender's signing key"):
        open_message(wire, epoch_key, theo.public, conversation_id, 2)
    with pytest.raises(SignatureError):
        verify_message(wire, theo.public)


def test_it_cannot_be_moved_to_another_conversation_epoch_or_message_id(
    wire: bytes,
    clara: IdentityKeyPair,
    epoch_key: ConversationKey,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
) -> None:
    with pytest.raises(BindingError, match="another conversation"):
        open_message(wire, epoch_key, clara.public, uuid.uuid4(), 2)
    with pytest.raises(BindingError, match="for epoch 2, not epoch 3"):
        open_message(wire, epoch_key, clara.public, conversation_id, 3)
    with pytest.raises(BindingError, match="another client message id"):
        open_message(wire, epoch_key, clara.public, conversation_id, 2, uuid.uuid4())
    assert open_message(wire, epoch_key, clara.public, conversation_id, 2, message_id)


def test_the_same_plaintext_seals_differently_each_time(
    clara: IdentityKeyPair,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    first = seal_message(b"same", epoch_key, conversation_id, 0, clara, message_id)
    second = seal_message(b"same", epoch_key, conversation_id, 0, clara, message_id)
    assert first[69:93] != second[69:93]
    assert first[93:-64] != second[93:-64]


def test_text_that_is_not_valid_utf8_is_refused(
    clara: IdentityKeyPair, conversation_id: uuid.UUID, epoch_key: ConversationKey
) -> None:
    wire = seal_message(b"\xff", epoch_key, conversation_id, 0, clara, uuid.uuid4())
    with pytest.raises(FormatError, match="not valid UTF-8"):
        open_text(wire, epoch_key, clara.public, conversation_id, 0)
