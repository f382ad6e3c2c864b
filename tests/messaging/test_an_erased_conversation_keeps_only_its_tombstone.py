"""Cryptographic erasure of a discharged conversation: on an admin's recorded request (run
by its job) or at the end of the practice's retention (the periodic sweep). Every envelope,
message, sealed disclosure and notice of the conversation goes, the row stays as a
tombstone with the audit entries; an erasure interrupted halfway is never served half,
and resumes. After it, a pg_dump of the database holds no byte of its ciphertext."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import Practice, Role
from audit.models import Event
from messaging.models import (
    Conversation,
    Disclosure,
    KeyEnvelope,
    Membership,
    Message,
    Notice,
)
from messaging.services import erasure
from messaging.services.discharge import discharge, years_after
from protocol.audit import AuditKind
from protocol.errors import BadRequestError, NotFoundError
from tests.conftest import running_in_ci
from tests.messaging.conftest import Connect, Socket
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Chat, Practice5, make_chat, make_person, make_practice

pytestmark = pytest.mark.django_db(transaction=True)

KINDS = (KeyEnvelope, Message, Disclosure, Notice)


def fill(world: Practice5, chat: Chat, messages: int = 3) -> list[bytes]:
    """Messages, a sealed disclosure and a notice in ``chat``; returns the ciphertexts."""
    wires = []
    client, therapist = chat.members
    for seq in range(1, messages + 1):
        message_id, wire = chat.seal(client if seq % 2 else therapist, f"message {seq}")
        Message.objects.create(
            conversation=chat.conversation,
            seq=seq,
            client_message_id=message_id,
            epoch=0,
            sender=(client if seq % 2 else therapist).user,
            ciphertext=wire,
        )
        wires.append(wire)
    Conversation.objects.filter(pk=chat.id).update(last_seq=messages)
    sealed = os.urandom(120)
    Disclosure.objects.create(
        conversation=chat.conversation,
        recorded_by=therapist.user,
        disclosed_on=dt.date(2026, 3, 1),
        legal_basis=Disclosure.LegalBasis.COURT_ORDER,
        epoch=0,
        sealed=sealed,
    )
    Notice.objects.create(
        user=therapist.user, conversation=chat.conversation, seq=1, sent_at=timezone.now()
    )
    Membership.objects.filter(conversation=chat.conversation, user=therapist.user).update(
        label="C. from the Tuesday group"
    )
    return [*wires, sealed]


def left(chat: Chat) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(conversation_id=chat.id).count() for model in KINDS
    }


def kinds_of(chat: Chat) -> list[str]:
    return list(
        Event.objects.filter(subject=f"conversation:{chat.id}")
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def discharged(world: Practice5, chat: Chat | None = None) -> Conversation:
    chat = chat or world.chat
    therapist = chat.members[1]
    return discharge(therapist.user, chat.id)


@pytest.mark.django_db(transaction=True)
def test_a_requested_erasure_runs_from_its_job_and_leaves_a_tombstone(
    transactional_db: None,
) -> None:
    world = make_practice()
    fill(world, world.chat)
    fill(world, world.other_chat)
    with pytest.raises(BadRequestError, match="discharges it first"):
        erasure.request_erasure(world.admin.user, world.chat.id, "client_request")
    discharged(world)
    elsewhere = make_person(Practice.objects.create(name="Elsewhere"), Role.ADMIN, "Eve")
    with pytest.raises(NotFoundError):
        erasure.request_erasure(elsewhere.user, world.chat.id, "client_request")

    erasure.request_erasure(world.admin.user, world.chat.id, "client_request")
    with pytest.raises(BadRequestError, match="already requested"):
        erasure.request_erasure(world.admin.user, world.chat.id, "court_order")
    # The job exists with the request; the worker runs it.
    [job] = DBTaskResult.objects.filter(
        task_path="messaging.services.erasure.erase_job", status=TaskResultStatus.READY
    )
    assert job.args_kwargs["args"] == [str(world.chat.id), "requested"]
    assert erasure.erase_job.call(*job.args_kwargs["args"]) is None

    assert left(world.chat) == dict.fromkeys(left(world.chat), 0)
    assert all(left(world.other_chat).values())  # another conversation is untouched
    tombstone = Conversation.objects.get(pk=world.chat.id)
    assert tombstone.status == Conversation.Status.ERASED
    assert tombstone.erased_at is not None and tombstone.erasure_requested_at is not None
    assert tombstone.erasure_requested_by_id == world.admin.id
    assert Membership.objects.filter(conversation=tombstone).count() == 2
    assert set(
        Membership.objects.filter(conversation=tombstone).values_list("label", flat=True)
    ) == {""}
    assert kinds_of(world.chat) == [
        AuditKind.CONVERSATION_DISCHARGED,
        AuditKind.ERASURE_REQUESTED,
        AuditKind.ERASURE_STARTED,
        AuditKind.CONVERSATION_ERASED,
    ]
    requested = Event.objects.get(kind=AuditKind.ERASURE_REQUESTED)
    assert requested.details == {"reason": "client_request"}
    assert requested.actor_id == world.admin.id
    erased = Event.objects.get(kind=AuditKind.CONVERSATION_ERASED)
    assert erased.details == {
        "envelopes": 2,
        "messages": 3,
        "attachments": 0,
        "disclosures": 1,
        "notices": 1,
    }
    assert erased.practice_id == world.practice.pk and erased.actor_id is None
    # Erased once: running again changes nothing, and another request is refused.
    assert erasure.erase(world.chat.id) is False
    assert Event.objects.filter(kind=AuditKind.CONVERSATION_ERASED).count() == 1
    with pytest.raises(BadRequestError, match="already erased"):
        erasure.request_erasure(world.admin.user, world.chat.id, "client_request")


async def told(socket: Socket, status: str) -> None:
    """The socket is told the conversation's status became ``status`` (after any other)."""
    while (await socket.receive_type("conversation_status"))["status"] != status:
        pass


async def test_an_interrupted_erasure_is_never_served_half_and_resumes(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(erasure, "BATCH", 2)
    await database_sync_to_async(fill)(world, world.chat, 7)
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    await database_sync_to_async(discharged)(world)
    assert (await clara.receive_type("conversation_status"))["status"] == "discharged"

    def interrupted() -> dict[str, int]:
        assert erasure.begin(world.chat.id, "requested")
        # Killed after two batches: the envelopes are gone, and two of seven messages.
        assert not erasure.destroy(world.chat.id, erasure.Destroyed(), stop_after=2)
        return left(world.chat)

    remaining = await database_sync_to_async(interrupted)()
    assert remaining["KeyEnvelope"] == 0 and remaining["Message"] == 5
    for socket in (clara, theo):
        await told(socket, "erasing")
    # Nothing of it is served while it is being erased, and the reply says why.
    page = await clara.request({"type": "history", "conversation": str(world.chat.id)})
    assert page["type"] == "history" and page["messages"] == [] and page["status"] == "erasing"
    sync = await theo.request({"type": "sync", "after": {str(world.chat.id): 0}})
    [one] = sync["conversations"]
    assert one["messages"] == [] and one["status"] == "erasing" and one["last_seq"] == 7
    # Nor can anything be written to it.
    message_id, wire = world.chat.seal(world.client, "late")
    refused = await clara.request(send_frame(world.chat.id, message_id, wire))
    assert refused["code"] == "conversation_closed"

    # The sweep takes it up again and finishes it.
    assert await database_sync_to_async(erasure.sweep)() == 1
    for socket in (clara, theo):
        await told(socket, "erased")
    assert await database_sync_to_async(left)(world.chat) == dict.fromkeys(remaining, 0)
    page = await clara.request({"type": "history", "conversation": str(world.chat.id)})
    assert page["messages"] == [] and page["status"] == "erased"
    assert await database_sync_to_async(erasure.sweep)() == 0

    kinds = await database_sync_to_async(kinds_of)(world.chat)
    assert kinds == [
        AuditKind.CONVERSATION_DISCHARGED,
        AuditKind.ERASURE_STARTED,
        AuditKind.CONVERSATION_ERASED,
    ]


def test_retention_erases_only_what_is_past_the_practices_years(transactional_db: None) -> None:
    world = make_practice()
    now = timezone.now()
    discharged(world)
    discharged(world, world.other_chat)
    # Discharged seven years ago less a day, and seven years ago exactly.
    Conversation.objects.filter(pk=world.chat.id).update(
        discharged_at=years_after(now, -7) + dt.timedelta(days=1)
    )
    Conversation.objects.filter(pk=world.other_chat.id).update(discharged_at=years_after(now, -7))
    assert world.practice.retention_years == 7
    assert erasure.due(now) == [(world.other_chat.id, "retention")]
    assert erasure.sweep(now) == 1
    assert Conversation.objects.get(pk=world.chat.id).status == Conversation.Status.DISCHARGED
    assert Conversation.objects.get(pk=world.other_chat.id).status == Conversation.Status.ERASED
    started = Event.objects.get(kind=AuditKind.ERASURE_STARTED)
    assert started.details["why"] == "retention"
    # A shorter retention brings the first one due.
    world.practice.retention_years = 1
    world.practice.save()
    assert erasure.due(now) == [(world.chat.id, "retention")]
    # An active conversation is never due, however old.
    active = make_chat(world.practice, world.therapist, world.client)
    Conversation.objects.filter(pk=active.id).update(created_at=years_after(now, -50))
    assert active.id not in dict(erasure.due(now))


def test_the_periodic_job_runs_the_sweep(transactional_db: None) -> None:
    from portal import periodic

    world = make_practice()
    discharged(world)
    Conversation.objects.filter(pk=world.chat.id).update(
        discharged_at=years_after(timezone.now(), -8)
    )
    assert "conversation_erasure" in periodic.run_due()
    assert Conversation.objects.get(pk=world.chat.id).status == Conversation.Status.ERASED


def _dump(database: dict[str, Any]) -> bytes:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    env = {
        **os.environ,
        "PGHOST": database.get("HOST") or parts.hostname or "127.0.0.1",
        "PGPORT": str(database.get("PORT") or parts.port or 5432),
        "PGUSER": database.get("USER") or parts.username or "postgres",
        "PGPASSWORD": database.get("PASSWORD") or parts.password or "",
    }
    return subprocess.run(
        ["pg_dump", "--no-owner", database["NAME"]],  # noqa: S607 (pg_dump from PATH)
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    ).stdout


def test_after_erasure_a_database_dump_holds_no_byte_of_its_ciphertext(
    transactional_db: None,
) -> None:
    if connection.vendor != "postgresql":
        message = "pg_dump needs PostgreSQL: set DATABASE_URL to run this test"
        if running_in_ci():
            pytest.fail(message)
        pytest.skip(message)
    world = make_practice()
    secrets = fill(world, world.chat)
    secrets += [
        bytes(e)
        for e in KeyEnvelope.objects.filter(conversation_id=world.chat.id).values_list(
            "envelope", flat=True
        )
    ]
    kept = fill(world, world.other_chat)
    spellings = [s.hex().encode() for s in secrets]

    before = _dump(connection.settings_dict)
    # The scan finds what is there: every ciphertext, envelope and sealed record, as
    # pg_dump writes a bytea (hexadecimal).
    assert all(spelling in before for spelling in spellings)
    discharged(world)
    erasure.request_erasure(world.admin.user, world.chat.id, "client_request")
    assert erasure.erase(world.chat.id)

    after = _dump(connection.settings_dict)
    assert not [s for s in spellings if s in after]
    assert all(s.hex().encode() in after for s in kept)
    assert str(world.chat.id).encode() in after  # the tombstone
