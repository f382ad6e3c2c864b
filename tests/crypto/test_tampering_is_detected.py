"""Flipping a byte in any region of any format is detected, by the right check.

Each format is built fresh with random keys; one byte in every region is flipped in turn,
and every single byte of the envelope and of a message is flipped in a final sweep.
"""

from __future__ import annotations

import uuid

import pytest

from crypto import (
    BindingError,
    BundleKind,
    ConversationKey,
    CryptoError,
    DecryptionError,
    FormatError,
    IdentityKeyPair,
    PublicIdentity,
    SignatureError,
    UnsupportedVersionError,
    WrappingKey,
    open_message,
    safety_qr_payload,
    seal_message,
    unwrap_conversation_key,
    unwrap_identity,
    verify_envelope,
    verify_message,
    verify_safety_qr,
    wrap_conversation_key,
    wrap_identity,
)


def flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


IDENTITY_REGIONS = {"version": 0, "sign_pk": 10, "enc_pk": 40, "signature": 100}


@pytest.mark.parametrize("region", IDENTITY_REGIONS)
def test_a_flipped_public_identity_is_rejected(clara: IdentityKeyPair, region: str) -> None:
    tampered = flip(clara.public.to_bytes(), IDENTITY_REGIONS[region])
    expected = UnsupportedVersionError if region == "version" else SignatureError
    with pytest.raises(expected):
        PublicIdentity.from_bytes(tampered)


BUNDLE_REGIONS: dict[str, tuple[int, type[CryptoError]]] = {
    "version": (0, UnsupportedVersionError),
    "kind": (1, FormatError),
    "nonce": (10, DecryptionError),
    "ciphertext": (50, DecryptionError),
    "tag": (100, DecryptionError),
}


@pytest.mark.parametrize("region", BUNDLE_REGIONS)
def test_a_flipped_key_bundle_is_rejected(clara: IdentityKeyPair, region: str) -> None:
    key = WrappingKey(bytes(range(32)))
    blob = wrap_identity(clara, key, BundleKind.PASSWORD)
    offset, expected = BUNDLE_REGIONS[region]
    with pytest.raises(expected) as caught:
        unwrap_identity(flip(blob, offset), key, clara.public)
    assert type(caught.value) is expected


def test_a_bundle_relabelled_as_the_other_kind_does_not_decrypt(clara: IdentityKeyPair) -> None:
    key = WrappingKey(bytes(range(32)))
    blob = wrap_identity(clara, key, BundleKind.PASSWORD)
    relabelled = blob[:1] + bytes([BundleKind.RECOVERY]) + blob[2:]
    with pytest.raises(DecryptionError):
        unwrap_identity(relabelled, key, clara.public)


ENVELOPE_REGIONS = {
    "version": 0,
    "conversation_id": 5,
    "epoch": 19,
    "recipient_enc_pk": 30,
    "wrapper_sign_pk": 60,
    "eph_pk": 100,
    "nonce": 120,
    "ciphertext": 150,
    "tag": 180,
    "signature": 200,
}


@pytest.mark.parametrize("region", ENVELOPE_REGIONS)
def test_a_flipped_envelope_is_rejected_by_client_and_server(
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    epoch_key: ConversationKey,
    region: str,
) -> None:
    envelope = wrap_conversation_key(epoch_key, conversation_id, 3, clara.public, theo)
    tampered = flip(envelope, ENVELOPE_REGIONS[region])
    expected = UnsupportedVersionError if region == "version" else SignatureError
    with pytest.raises(expected):
        unwrap_conversation_key(tampered, clara, theo.public, conversation_id, 3)
    with pytest.raises(expected):
        verify_envelope(tampered, theo.public)


def _message_regions(length: int) -> dict[str, int]:
    return {
        "version": 0,
        "conversation_id": 5,
        "epoch": 19,
        "sender_sign_pk": 30,
        "client_message_id": 60,
        "nonce": 80,
        "ciphertext": 100,
        "tag": length - 70,
        "signature": length - 10,
    }


@pytest.mark.parametrize("region", list(_message_regions(429)))
def test_a_flipped_message_is_rejected_by_client_and_server(
    clara: IdentityKeyPair,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    epoch_key: ConversationKey,
    region: str,
) -> None:
    wire = seal_message(b"I had a hard week.", epoch_key, conversation_id, 3, clara, message_id)
    tampered = flip(wire, _message_regions(len(wire))[region])
    expected = UnsupportedVersionError if region == "version" else SignatureError
    with pytest.raises(expected):
        open_message(tampered, epoch_key, clara.public, conversation_id, 3, message_id)
    with pytest.raises(expected):
        verify_message(tampered, clara.public)


QR_REGIONS = {"version": 0, "first_fingerprint": 5, "second_fingerprint": 50}


@pytest.mark.parametrize("region", QR_REGIONS)
def test_a_flipped_safety_qr_payload_is_rejected(
    clara: IdentityKeyPair, theo: IdentityKeyPair, region: str
) -> None:
    payload = safety_qr_payload(clara.public, theo.public)
    expected = UnsupportedVersionError if region == "version" else BindingError
    with pytest.raises(expected):
        verify_safety_qr(flip(payload, QR_REGIONS[region]), clara.public, theo.public)


def test_flipping_any_single_byte_of_an_envelope_is_rejected(
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    envelope = wrap_conversation_key(epoch_key, conversation_id, 0, clara.public, theo)
    for offset in range(len(envelope)):
        with pytest.raises(CryptoError):
            unwrap_conversation_key(flip(envelope, offset), clara, theo.public, conversation_id, 0)


def test_flipping_any_single_byte_of_a_message_is_rejected(
    clara: IdentityKeyPair,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    wire = seal_message(b"see you thursday", epoch_key, conversation_id, 0, clara, message_id)
    for offset in range(len(wire)):
        with pytest.raises(CryptoError):
            open_message(flip(wire, offset), epoch_key, clara.public, conversation_id, 0)


def test_an_insider_re_signing_a_moved_message_is_caught_by_the_binding_check(
    clara: IdentityKeyPair,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    wire = seal_message(b"hello", epoch_key, conversation_id, 0, clara, message_id)
    other_conversation = uuid.uuid4()
    moved = wire[:1] + other_conversation.bytes + wire[17:-64]
    moved += clara._sign(b"confide/v1/message-sig" + moved)
    with pytest.raises(BindingError):
        open_message(moved, epoch_key, clara.public, conversation_id, 0)
    # Even a reader expecting the new conversation cannot decrypt: the id is in the AD.
    with pytest.raises(DecryptionError):
        open_message(moved, epoch_key, clara.public, other_conversation, 0)
