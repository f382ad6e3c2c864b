"""A therapist discharges a conversation: both members are told, and from the commit on
every way of writing to it is refused with ``conversation_closed`` (a new send, a resend of
a message never stored, a new epoch), while its history stays readable and a resend of a
message stored before the discharge is still acknowledged as the duplicate it is. A send
racing the discharge is stored before it or refused, never stored after it."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

import crypto
from audit.models import Event
from messaging.models import Conversation, Message
from messaging.services import discharge as discharge_service
from messaging.services.discharge import discharge
from protocol.audit import AuditKind
from protocol.errors import ConversationClosedError, NotFoundError
from tests.conftest import require_postgresql
from tests.messaging.conftest import Connect
from tests.messaging.test_rekey import rekey_frame
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db(transaction=True)


async def discharge_as(person: Person, world: Practice5) -> Conversation:
    conversation: Conversation = await database_sync_to_async(discharge)(person.user, world.chat.id)
    return conversation


async def test_after_a_discharge_every_send_path_is_refused_and_the_history_stays(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    stored_id, stored_wire = world.chat.seal(world.client, "before the discharge")
    assert (await clara.request(send_frame(world.chat.id, stored_id, stored_wire)))["type"] == "ack"

    discharged = await discharge_as(world.therapist, world)
    for socket in (clara, theo):
        event = await socket.receive_type("conversation_status")
        assert event["conversation"] == str(world.chat.id)
        assert event["status"] == "discharged"

    # A new message, from either member.
    for socket, person in ((clara, world.client), (theo, world.therapist)):
        message_id, wire = world.chat.seal(person, "after the discharge")
        reply = await socket.request(send_frame(world.chat.id, message_id, wire))
        assert reply["type"] == "error"
        assert reply["code"] == "conversation_closed"
        assert "discharged" in reply["message"] or "read-only" in reply["message"]
        # Sent again with the same id and bytes (the outbox's resend): refused again.
        again = await socket.request(send_frame(world.chat.id, message_id, wire))
        assert again["code"] == "conversation_closed"
    # A resend of the message stored before: the duplicate ack, nothing new stored.
    resent = await clara.request(send_frame(world.chat.id, stored_id, stored_wire))
    assert resent["type"] == "ack" and resent["duplicate"] is True and resent["seq"] == 1
    # A new epoch.
    key = crypto.ConversationKey.generate()
    refused = await theo.request(rekey_frame(world, world.therapist, key))
    assert refused["code"] == "conversation_closed"

    # The history is still read, in full.
    page = await clara.request({"type": "history", "conversation": str(world.chat.id)})
    assert [m["seq"] for m in page["messages"]] == [1]
    assert page.get("status") is None
    count = await database_sync_to_async(Message.objects.filter(conversation=world.chat.id).count)()
    assert count == 1
    assert discharged.discharged_by_id == world.therapist.id

    def audited() -> list[Event]:
        return list(Event.objects.filter(kind=AuditKind.CONVERSATION_DISCHARGED))

    [event] = await database_sync_to_async(audited)()
    assert event.subject == f"conversation:{world.chat.id}"
    assert event.actor_id == world.therapist.id
    assert event.details == {"last_seq": 1, "retention_years": world.practice.retention_years}


async def test_a_conversation_is_discharged_once_and_only_by_its_member(
    world: Practice5, connect: Connect
) -> None:
    with pytest.raises(NotFoundError):
        await discharge_as(world.other_therapist, world)
    await discharge_as(world.therapist, world)
    with pytest.raises(ConversationClosedError, match="discharged on"):
        await discharge_as(world.therapist, world)


async def test_a_send_waiting_on_the_discharges_lock_is_refused_when_it_commits(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The discharge holds the conversation's row until its commit; a send arriving then
    waits for that lock and reads the new status (PostgreSQL, READ COMMITTED): refused.
    A writer that read the status without the lock would store it after the discharge."""
    require_postgresql("The race of a send and a discharge is tested on PostgreSQL")
    clara = await connect(world.client)
    holding = threading.Event()
    release = threading.Event()
    recorded = discharge_service.record  # type: ignore[attr-defined]

    def record_then_hold(*args: Any, **kwargs: Any) -> Any:
        event = recorded(*args, **kwargs)
        holding.set()
        assert release.wait(10)
        return event

    monkeypatch.setattr(discharge_service, "record", record_then_hold)
    discharging = asyncio.ensure_future(discharge_as(world.therapist, world))
    assert await asyncio.to_thread(holding.wait, 10)
    message_id, wire = world.chat.seal(world.client, "in the middle of the discharge")
    await clara.send({"ref": "racing", **send_frame(world.chat.id, message_id, wire)})
    # The writer is blocked on the row lock: no reply yet.
    assert await clara.nothing(0.5)
    release.set()
    await discharging
    reply = await clara.receive_type("error", timeout=5)
    assert reply["ref"] == "racing" and reply["code"] == "conversation_closed"
    count = await database_sync_to_async(Message.objects.filter(conversation=world.chat.id).count)()
    assert count == 0


async def test_many_sends_racing_a_discharge_are_stored_before_it_or_refused(
    world: Practice5, connect: Connect
) -> None:
    """Sends in flight from both members while the discharge commits: each is acked and
    numbered within the last sequence number the discharge saw, or refused; none is stored
    after it."""
    require_postgresql("The race of a send and a discharge is tested on PostgreSQL")
    clara = await connect(world.client)
    theo = await connect(world.therapist)
    sent: dict[str, tuple[Any, uuid.UUID]] = {}

    async def fire(socket: Any, person: Person, n: int) -> None:
        for i in range(n):
            message_id, wire = world.chat.seal(person, f"racing {i}")
            ref = f"{person.id}-{i}"
            sent[ref] = (socket, message_id)
            await socket.send({"ref": ref, **send_frame(world.chat.id, message_id, wire)})
            await asyncio.sleep(0.003)

    senders = asyncio.gather(fire(clara, world.client, 30), fire(theo, world.therapist, 30))
    # The discharge once the first batch committed, while the rest are on their way (not
    # after a fixed time: a loaded machine's first batch can take longer than that).
    count = database_sync_to_async(Message.objects.filter(conversation=world.chat.id).count)
    for _ in range(1000):
        if await count():
            break
        await asyncio.sleep(0.002)
    await discharge_as(world.therapist, world)
    await senders

    replies: dict[str, dict[str, Any]] = {}
    for socket in (clara, theo):
        mine = {ref for ref, (owner, _) in sent.items() if owner is socket}
        while not mine <= set(replies):
            frame = await socket.receive(timeout=5)
            if frame.get("ref") in sent:
                replies[frame["ref"]] = frame
    assert set(replies) == set(sent)

    def facts() -> tuple[Conversation, list[Message], Event]:
        return (
            Conversation.objects.get(pk=world.chat.id),
            list(Message.objects.filter(conversation=world.chat.id)),
            Event.objects.get(kind=AuditKind.CONVERSATION_DISCHARGED),
        )

    conversation, stored, event = await database_sync_to_async(facts)()
    at_discharge = event.details["last_seq"]
    assert isinstance(at_discharge, int)
    acked = {r["client_message_id"] for r in replies.values() if r["type"] == "ack"}
    refused = [r for r in replies.values() if r["type"] == "error"]
    assert all(r["code"] == "conversation_closed" for r in refused), refused
    assert acked == {str(m.client_message_id) for m in stored}
    assert conversation.last_seq == at_discharge == len(stored)
    assert conversation.discharged_at is not None
    assert all(m.created_at <= conversation.discharged_at for m in stored)
    # The race happened: some were stored before, some refused after.
    assert acked and refused, (len(acked), len(refused))
