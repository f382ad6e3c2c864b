"""``/api/conversations/<id>/disclosures``: the conversation's therapist records a
disclosure (sealed and signed by their client) and both members list it; nobody else
records one, a bad seal is refused, a discharged conversation takes none, and the audit
log keeps the date and basis but never the sealed bytes."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest

import crypto
from audit.models import Event
from crypto import DisclosureDescription
from messaging.models import Conversation, Disclosure, KeyEnvelope
from messaging.services import events
from protocol.http import DisclosureAnswer, DisclosuresAnswer
from protocol.to_client import DisclosureRecordedEvent
from tests.http.conftest import Browser, Reply
from tests.personas import Chat, Person, Practice5

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 26)
SECRET_WORDS = "Officer Ruiz was told of the threat against Sam"
WARNING = DisclosureDescription(
    DAY,
    "duty_to_protect",
    recipient="Officer Ruiz, Oakland PD",
    information=SECRET_WORDS,
    purpose="To warn the person named",
)


def sealed_body(
    chat: Chat,
    recorder: Person,
    *,
    description: DisclosureDescription = WARNING,
    record_id: uuid.UUID | None = None,
    epoch: int = 0,
    conversation: uuid.UUID | None = None,
    **changes: Any,
) -> dict[str, Any]:
    record_id = record_id or uuid.uuid4()
    sealed = crypto.seal_disclosure(
        description, chat.key, conversation or chat.id, epoch, recorder.identity, record_id
    )
    return {
        "id": str(record_id),
        "disclosed_on": description.disclosed_on.isoformat(),
        "legal_basis": description.legal_basis,
        "epoch": epoch,
        "sealed": crypto.b64encode(sealed),
        **changes,
    }


def post(person: Person, chat: Chat, body: dict[str, Any]) -> Reply:
    return Browser().sign_in_as(person).post(f"/api/conversations/{chat.id}/disclosures", body)


def listing(person: Person, chat: Chat) -> Reply:
    return Browser().sign_in_as(person).get(f"/api/conversations/{chat.id}/disclosures")


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], Any]]:
    calls: list[tuple[list[int], Any]] = []
    monkeypatch.setattr(
        events, "publish_on_commit", lambda users, frame: calls.append((list(users), frame))
    )
    return calls


def test_the_therapist_records_and_the_client_reads_it(
    world: Practice5, announced: list[tuple[list[int], Any]]
) -> None:
    body = sealed_body(world.chat, world.therapist)
    reply = post(world.therapist, world.chat, body)

    assert reply.status == 200, reply.content
    stored = DisclosureAnswer.model_validate_json(reply.content).disclosure
    assert (str(stored.id), stored.disclosed_on, stored.legal_basis) == (
        body["id"],
        DAY,
        "duty_to_protect",
    )
    assert stored.recorded_by == world.therapist.id
    for member in (world.client, world.therapist):
        answer = listing(member, world.chat)
        assert answer.status == 200, answer.content
        [item] = DisclosuresAnswer.model_validate_json(answer.content).disclosures
        assert item == stored
        opened = crypto.open_disclosure(
            crypto.b64decode(item.sealed),
            world.chat.key,
            world.therapist.identity.public,
            world.chat.id,
            item.epoch,
            item.id,
            item.disclosed_on,
            item.legal_basis,
        )
        assert opened == WARNING
    [(users, frame)] = announced
    assert sorted(users) == sorted([world.client.id, world.therapist.id])
    assert frame == DisclosureRecordedEvent(conversation=world.chat.id, disclosure=stored.id)


def test_the_audit_log_keeps_the_date_and_basis_and_never_the_seal(world: Practice5) -> None:
    body = sealed_body(world.chat, world.therapist)
    assert post(world.therapist, world.chat, body).status == 200

    [event] = Event.objects.filter(kind="disclosure_recorded")
    assert event.actor_id == world.therapist.id
    assert event.subject == f"conversation:{world.chat.id}"
    assert event.details == {
        "disclosed_on": "2026-11-26",
        "legal_basis": "duty_to_protect",
        "disclosure": body["id"],
    }
    everything = repr(list(Event.objects.values()))
    sealed = crypto.b64decode(body["sealed"])
    for part in (body["sealed"][:40], sealed[100:140].hex(), "Ruiz", "threat"):
        assert part not in everything


def test_only_the_therapist_member_records_one(world: Practice5) -> None:
    client_body = sealed_body(world.chat, world.client)
    refused = post(world.client, world.chat, client_body)
    assert (refused.status, refused.code) == (403, "forbidden")

    outsider = sealed_body(world.chat, world.other_therapist)
    refused = post(world.other_therapist, world.chat, outsider)
    assert (refused.status, refused.code) == (404, "not_found")
    for person in world.outsiders().values():
        assert listing(person, world.chat).code in ("not_found", "forbidden")
    assert not Disclosure.objects.exists()
    assert not Event.objects.filter(kind="disclosure_recorded").exists()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("signed by the client", "bad_ciphertext"),
        ("another conversation", "bad_ciphertext"),
        ("another epoch", "bad_ciphertext"),
        ("another id", "bad_ciphertext"),
        ("a changed byte", "bad_ciphertext"),
        ("a message", "bad_ciphertext"),
        ("an epoch the conversation lacks", "stale_epoch"),
        ("not base64url", "bad_request"),
        ("an unknown basis", "bad_request"),
    ],
)
def test_a_bad_seal_is_refused_and_nothing_is_kept(
    world: Practice5, case: str, expected: str
) -> None:
    chat, theo = world.chat, world.therapist
    body = sealed_body(chat, theo)
    if case == "signed by the client":
        body = sealed_body(chat, world.client)
    elif case == "another conversation":
        body = sealed_body(chat, theo, conversation=uuid.uuid4())
    elif case == "another epoch":
        body = {**sealed_body(chat, theo, epoch=1), "epoch": 0}
    elif case == "another id":
        body["id"] = str(uuid.uuid4())
    elif case == "a changed byte":
        sealed = bytearray(crypto.b64decode(body["sealed"]))
        sealed[200] ^= 1
        body["sealed"] = crypto.b64encode(bytes(sealed))
    elif case == "a message":
        _, wire = chat.seal(theo, "x" * 200, client_message_id=uuid.UUID(body["id"]))
        body["sealed"] = crypto.b64encode(wire)
    elif case == "an epoch the conversation lacks":
        body = sealed_body(chat, theo, epoch=5)
    elif case == "not base64url":
        body["sealed"] = "not base64!"
    elif case == "an unknown basis":
        body["legal_basis"] = "curiosity"
    reply = post(theo, chat, body)

    assert (reply.status, reply.code) == (
        {"bad_ciphertext": 400, "stale_epoch": 409, "bad_request": 400}[expected],
        expected,
    ), reply.content
    assert not Disclosure.objects.exists()
    assert not Event.objects.filter(kind="disclosure_recorded").exists()


def test_a_later_epoch_the_conversation_has_is_taken(world: Practice5) -> None:
    chat = world.chat
    KeyEnvelope.objects.create(
        conversation=chat.conversation,
        epoch=1,
        recipient=world.therapist.user,
        wrapper=world.therapist.user,
        envelope=b"\x02" * 293,
    )
    assert post(world.therapist, chat, sealed_body(chat, world.therapist, epoch=1)).status == 200
    assert post(world.therapist, chat, sealed_body(chat, world.therapist, epoch=0)).status == 200


@pytest.mark.parametrize("status", ["discharged", "erasing", "erased"])
def test_a_conversation_no_longer_active_takes_no_disclosure(world: Practice5, status: str) -> None:
    Conversation.objects.filter(pk=world.chat.id).update(status=status)

    reply = post(world.therapist, world.chat, sealed_body(world.chat, world.therapist))

    assert (reply.status, reply.code) == (409, "conversation_closed")
    message = reply.json()["error"]["message"]
    assert "only while the conversation is active" in message
    assert {"discharged": "discharged", "erasing": "being erased", "erased": "erased"}[
        status
    ] in message
    assert not Disclosure.objects.exists()
    assert not Event.objects.filter(kind="disclosure_recorded").exists()


def test_the_same_record_sent_again_is_stored_once(world: Practice5) -> None:
    body = sealed_body(world.chat, world.therapist)
    first = post(world.therapist, world.chat, body)
    again = post(world.therapist, world.chat, body)

    assert again.status == 200
    assert again.json() == first.json()
    assert Disclosure.objects.count() == 1
    assert Event.objects.filter(kind="disclosure_recorded").count() == 1
    other = sealed_body(world.chat, world.therapist, record_id=uuid.UUID(body["id"]))
    reused = post(world.therapist, world.chat, other)
    assert (reused.status, reused.code) == (400, "bad_request")


def test_the_legal_bases_are_the_same_everywhere() -> None:
    from typing import get_args

    from protocol.http import LegalBasis

    assert tuple(Disclosure.LegalBasis.values) == crypto.LEGAL_BASES
    assert get_args(LegalBasis) == crypto.LEGAL_BASES
