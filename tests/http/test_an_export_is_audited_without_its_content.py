"""``POST /api/conversations/<id>/exports``: each export a member makes is one line of the
audit log (who, which conversation, their role, how many messages; never a word of them).
A discharged conversation can still be exported; one being erased or erased cannot."""

from __future__ import annotations

import pytest

from audit.models import Event
from messaging.models import Conversation
from protocol.audit import AuditKind
from tests.http.conftest import Browser
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db


def export(person: Person, conversation: str, body: object) -> tuple[int, dict[str, object]]:
    reply = Browser().sign_in_as(person).post(f"/api/conversations/{conversation}/exports", body)
    return reply.status, reply.json()


def exports() -> list[Event]:
    return list(Event.objects.filter(kind=AuditKind.EXPORT_MADE).order_by("seq"))


def test_each_members_export_is_audited_with_its_count_only(world: Practice5) -> None:
    chat = str(world.chat.id)
    status, answer = export(world.client, chat, {"messages": 17})
    assert status == 200, answer
    assert set(answer) == {"recorded_at"}
    assert export(world.therapist, chat, {"messages": 0})[0] == 200
    client_line, therapist_line = exports()
    assert client_line.actor_id == world.client.id
    assert client_line.subject == f"conversation:{chat}"
    assert client_line.details == {"messages": 17, "role": "client"}
    assert therapist_line.actor_id == world.therapist.id
    assert therapist_line.details == {"messages": 0, "role": "therapist"}


def test_a_bad_count_or_someone_elses_conversation_records_nothing(world: Practice5) -> None:
    chat = str(world.chat.id)
    for body in (
        {"messages": -1},
        {"messages": "3"},
        {"messages": True},
        {},
        {"messages": 1, "text": "x"},
    ):
        assert export(world.client, chat, body)[0] == 400, body
    status, answer = export(world.other_client, chat, {"messages": 1})
    assert status == 404
    assert exports() == []


def test_a_discharged_conversation_exports_and_an_erased_one_refuses(world: Practice5) -> None:
    chat = str(world.chat.id)
    Conversation.objects.filter(pk=world.chat.id).update(status=Conversation.Status.DISCHARGED)
    assert export(world.client, chat, {"messages": 3})[0] == 200
    for gone in (Conversation.Status.ERASING, Conversation.Status.ERASED):
        Conversation.objects.filter(pk=world.chat.id).update(status=gone)
        status, answer = export(world.therapist, chat, {"messages": 3})
        assert status == 409, answer
        assert answer["error"]["code"] == "conversation_closed"  # type: ignore[index]
    assert len(exports()) == 1
