"""A disclosure record opens only as the therapist sealed it: under its key, signed by the
therapist, in its conversation, epoch and id, with the date and basis the server gave;
never as a message, and no message opens as one."""

from __future__ import annotations

import datetime
import uuid

import pytest

from crypto import (
    BindingError,
    ConversationKey,
    DecryptionError,
    DisclosureDescription,
    FormatError,
    IdentityKeyPair,
    SignatureError,
    _labels,
    open_disclosure,
    open_message,
    seal_disclosure,
    seal_message,
    verify_disclosure,
)

DAY = datetime.date(2026, 11, 26)
WARNING = DisclosureDescription(
    DAY,
    "duty_to_protect",
    recipient="Officer J. Ruiz, Oakland PD",
    information="The threat stated on 24 November, and the client's address",
    purpose="To warn the person named and the police",
)


@pytest.fixture
def disclosure_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def record(
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> bytes:
    return seal_disclosure(WARNING, epoch_key, conversation_id, 3, theo, disclosure_id)


def _open(
    record: bytes,
    key: ConversationKey,
    recorder: IdentityKeyPair,
    conversation: uuid.UUID,
    epoch: int,
    disclosure: uuid.UUID,
    day: datetime.date = DAY,
    basis: str = "duty_to_protect",
) -> DisclosureDescription:
    return open_disclosure(
        record, key, recorder.public, conversation, epoch, disclosure, day, basis
    )


def test_the_client_reads_what_the_therapist_sealed(
    record: bytes,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    assert _open(record, epoch_key, theo, conversation_id, 3, disclosure_id) == WARNING
    info = verify_disclosure(record, theo.public)
    assert (info.conversation_uuid, info.epoch, info.disclosure_uuid) == (
        conversation_id,
        3,
        disclosure_id,
    )


def test_the_description_stays_out_of_its_repr() -> None:
    shown = repr(WARNING)
    assert "2026" in shown and "duty_to_protect" in shown
    for text in (WARNING.recipient, WARNING.information, WARNING.purpose, "Ruiz", "threat"):
        assert text not in shown


@pytest.mark.parametrize("offset", [1, 20, 21, 53, 69, 93, 300, -1])
def test_any_changed_byte_is_refused(
    record: bytes,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
    offset: int,
) -> None:
    changed = bytearray(record)
    changed[offset] ^= 0x40
    with pytest.raises(SignatureError):
        _open(bytes(changed), epoch_key, theo, conversation_id, 3, disclosure_id)


def test_another_conversation_epoch_or_id_is_refused(
    record: bytes,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    for conversation, epoch, disclosure in (
        (uuid.uuid4(), 3, disclosure_id),
        (conversation_id, 4, disclosure_id),
        (conversation_id, 3, uuid.uuid4()),
    ):
        with pytest.raises(BindingError):
            _open(record, epoch_key, theo, conversation, epoch, disclosure)


def test_a_date_or_basis_the_server_changed_is_refused(
    record: bytes,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    with pytest.raises(BindingError, match="date"):
        _open(
            record,
            epoch_key,
            theo,
            conversation_id,
            3,
            disclosure_id,
            day=DAY - datetime.timedelta(days=1),
        )
    with pytest.raises(BindingError, match="legal basis"):
        _open(record, epoch_key, theo, conversation_id, 3, disclosure_id, basis="client_authorised")


def test_a_record_signed_by_the_client_is_refused(
    clara: IdentityKeyPair,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    forged = seal_disclosure(WARNING, epoch_key, conversation_id, 3, clara, disclosure_id)
    with pytest.raises(SignatureError):
        verify_disclosure(forged, theo.public)
    with pytest.raises(SignatureError):
        _open(forged, epoch_key, theo, conversation_id, 3, disclosure_id)


def test_a_message_is_never_a_disclosure(
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    wire = seal_message(b"x" * 200, epoch_key, conversation_id, 3, theo, disclosure_id)
    with pytest.raises(SignatureError):
        verify_disclosure(wire, theo.public)
    with pytest.raises(SignatureError):
        _open(wire, epoch_key, theo, conversation_id, 3, disclosure_id)
    # Re-signed under the disclosure label by the therapist, who holds the signing key.
    resigned = wire[:-64] + theo._sign(_labels.DISCLOSURE_SIG + wire[:-64])
    verify_disclosure(resigned, theo.public)
    with pytest.raises(DecryptionError):
        _open(resigned, epoch_key, theo, conversation_id, 3, disclosure_id)


def test_a_disclosure_is_never_a_message(
    record: bytes,
    theo: IdentityKeyPair,
    conversation_id: uuid.UUID,
    disclosure_id: uuid.UUID,
    epoch_key: ConversationKey,
) -> None:
    with pytest.raises(SignatureError):
        open_message(record, epoch_key, theo.public, conversation_id, 3, disclosure_id)
    resigned = record[:-64] + theo._sign(_labels.MESSAGE_SIG + record[:-64])
    with pytest.raises(DecryptionError):
        open_message(resigned, epoch_key, theo.public, conversation_id, 3, disclosure_id)


@pytest.mark.parametrize(
    "changes",
    [
        {"recipient": ""},
        {"purpose": "a\tb"},
        {"information": "a\x00b"},
        {"legal_basis": "because"},
        {"disclosed_on": datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.UTC)},
        {"disclosed_on": "2026-11-26"},
    ],
)
def test_a_malformed_description_is_refused_when_written(changes: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "disclosed_on": DAY,
        "legal_basis": "court_order",
        "recipient": "Court",
        "information": "Dates",
        "purpose": "Order",
    }
    with pytest.raises(FormatError):
        DisclosureDescription(**{**fields, **changes})  # type: ignore[arg-type]
