"""What the client hands out never shows plaintext or a secret in its repr, so a log line
or a traceback cannot leak one."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from confide_client.keys import KeyRing
from confide_client.records import Account, Disclosure, Invitation, ReceivedMessage, SignUp
from crypto import ConversationKey, DisclosureDescription, IdentityKeyPair


def test_a_received_message_hides_its_text() -> None:
    message = ReceivedMessage(
        conversation=uuid.uuid4(),
        seq=1,
        sender_id=2,
        text="I have not told anyone this",
        sent_at=datetime.now(UTC),
        client_message_id=uuid.uuid4(),
    )
    assert "told anyone" not in repr(message)


def test_a_sign_up_hides_the_recovery_key_and_an_invitation_its_token() -> None:
    identity = IdentityKeyPair.generate()
    account = Account(1, "c@example.invalid", "C", "client", 1, "P", identity.public)
    sign_up = SignUp(account, uuid.uuid4(), recovery_key="ABCD-EFGH-SECRET")
    invitation = Invitation(
        id=1,
        token="TOKEN-SECRET",
        fragment="TOKEN-SECRET.FINGERPRINT",
        expires_at=datetime.now(UTC),
        conversation=uuid.uuid4(),
    )
    assert "SECRET" not in repr(sign_up)
    assert "SECRET" not in repr(invitation)


def test_a_key_ring_shows_only_how_many_keys_it_holds() -> None:
    ring = KeyRing()
    key = ConversationKey.generate()
    ring.add(uuid.uuid4(), 0, key)
    assert repr(ring) == "KeyRing(1 keys)"
    assert key._secret_material().hex() not in repr(ring)


def test_a_disclosure_hides_its_description() -> None:
    description = DisclosureDescription(
        date(2026, 11, 26),
        "mandated_report",
        recipient="County child protective services",
        information="What the client said about home",
        purpose="A report the law requires",
    )
    record = Disclosure(
        id=uuid.uuid4(),
        conversation=uuid.uuid4(),
        recorded_by=2,
        recorded_at=datetime.now(UTC),
        disclosed_on=description.disclosed_on,
        legal_basis=description.legal_basis,
        epoch=0,
        description=description,
    )
    for shown in (repr(record), str(record), repr(description), f"{record!r} {description}"):
        assert "mandated_report" in shown
        for word in ("County", "about home", "requires"):
            assert word not in shown
