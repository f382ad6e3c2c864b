"""Sync frames that arrive while the sync reader reads others are read together
(messaging/services/messages.py): after a restart every socket of a process syncs at once.
A batch is one trip and one statement for all its memberships; each sync is still decided
on its own, by its own user's memberships alone, and one sync's refusal is its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from messaging.models import Conversation
from messaging.services import common, generations, messages
from messaging.services.messages import Page, SyncRequest, _messages_after_many, sync_messages
from protocol.errors import NotFoundError, UnavailableError
from tests.messaging.conftest import Connect, Socket
from tests.messaging.test_sync_and_history import store
from tests.personas import Chat, Practice5, make_chat, make_person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def generation(transactional_db: None) -> None:
    """The process's database generation, known before any statement is counted."""
    generations.current()


def _seqs(pages: list[Page] | Exception) -> list[tuple[uuid.UUID, list[int], int]]:
    assert not isinstance(pages, BaseException), pages
    return [(p.conversation_id, [m.seq for m in p.messages], p.last_seq) for p in pages]


def test_a_batch_of_syncs_reads_every_membership_in_one_statement(world: Practice5) -> None:
    store(world.chat, world.client, 3)
    store(world.other_chat, world.other_therapist, 2)
    requests = [
        SyncRequest(world.therapist.id, {world.chat.id: 1}, 50),
        SyncRequest(world.client.id, {world.chat.id: 3}, 50),
        SyncRequest(world.other_therapist.id, {world.other_chat.id: 2}, 50),
        SyncRequest(world.other_client.id, {world.other_chat.id: 0}, 50),
    ]
    with CaptureQueriesContext(connections["default"]) as queries:
        answers = _messages_after_many(requests)
    # The memberships of all four, then the pages of the two with anything new.
    assert len(queries) == 3
    assert [_seqs(a) for a in answers] == [
        [(world.chat.id, [2, 3], 3)],
        [(world.chat.id, [], 3)],
        [(world.other_chat.id, [], 2)],
        [(world.other_chat.id, [1, 2], 2)],
    ]


def test_a_sync_naming_a_conversation_not_its_users_is_refused_alone(world: Practice5) -> None:
    """Each sync is decided by its own user's memberships, though a member of that
    conversation syncs in the same batch: the outsiders are refused, the member is
    answered, and so is a sync after the refused ones."""
    store(world.chat, world.client, 1)
    outsiders = list(world.outsiders().values())
    requests = [
        *(SyncRequest(p.id, {world.chat.id: 0}, 50) for p in outsiders),
        SyncRequest(world.therapist.id, {world.chat.id: 0}, 50),
        # One of its two conversations is not the client's: the whole frame is refused.
        SyncRequest(world.client.id, {world.chat.id: 0, world.other_chat.id: 0}, 50),
        SyncRequest(world.client.id, {world.chat.id: 0}, 50),
    ]
    answers = _messages_after_many(requests)
    for answer in [*answers[: len(outsiders)], answers[-2]]:
        assert isinstance(answer, NotFoundError)
    assert _seqs(answers[len(outsiders)]) == [(world.chat.id, [1], 1)]
    assert _seqs(answers[-1]) == [(world.chat.id, [1], 1)]


def test_a_deactivated_member_is_refused_beside_an_active_one(world: Practice5) -> None:
    world.client.user.is_active = False
    world.client.user.save(update_fields=["is_active"])
    gone, member = _messages_after_many(
        [
            SyncRequest(world.client.id, {world.chat.id: 0}, 50),
            SyncRequest(world.therapist.id, {world.chat.id: 0}, 50),
        ]
    )
    assert isinstance(gone, NotFoundError)
    assert _seqs(member) == [(world.chat.id, [], 0)]


def test_more_conversations_than_a_statement_holds_are_read_in_several(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "IN_AT_ONCE", 3)
    chats: list[Chat] = [world.chat] + [
        make_chat(
            world.practice, world.therapist, make_person(world.practice, Role.CLIENT, f"C{n}")
        )
        for n in range(6)
    ]
    store(chats[4], chats[4].members[0], 2)
    requests = [SyncRequest(world.therapist.id, {c.id: 0 for c in chats}, 50)] + [
        SyncRequest(c.members[0].id, {c.id: 1}, 50) for c in chats
    ]
    with CaptureQueriesContext(connections["default"]) as queries:
        answers = _messages_after_many(requests)
    # Seven conversations of eight users: three runs of conversations by three of users,
    # and the two pages with anything new.
    assert len(queries) == 3 * 3 + 2
    assert _seqs(answers[0]) == [
        (c.id, [1, 2] if c is chats[4] else [], 2 if c is chats[4] else 0) for c in chats
    ]
    assert [_seqs(a) for a in answers[1:]] == [
        [(c.id, [2] if c is chats[4] else [], 2 if c is chats[4] else 0)] for c in chats
    ]


async def test_syncs_that_arrive_meanwhile_share_a_trip(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty sockets' syncs, sent at once, are read in at most two trips (the first alone,
    at most, and the rest together), and each socket gets its own conversation's page."""
    await sync_to_async(store)(world.chat, world.client, 2)
    batch = messages._syncs
    assert batch is not None
    trips: list[int] = []
    read = batch.store

    def counted(requests: Sequence[SyncRequest]) -> Sequence[list[Page] | BaseException]:
        trips.append(len(requests))
        return read(requests)

    monkeypatch.setattr(batch, "store", counted)
    chat_of = [
        (world.therapist, world.chat),
        (world.client, world.chat),
        (world.other_therapist, world.other_chat),
        (world.other_client, world.other_chat),
    ]
    sockets = [(await connect(person), chat) for person, chat in chat_of for _ in range(5)]

    async def sync(socket: Socket, chat: Chat) -> dict[str, Any]:
        return await socket.request({"type": "sync", "after": {str(chat.id): 0}})

    replies = await asyncio.gather(*(sync(socket, chat) for socket, chat in sockets))
    assert sum(trips) == 20, trips
    assert len(trips) <= 2, trips
    for reply, (_, chat) in zip(replies, sockets, strict=True):
        assert reply["type"] == "sync", reply
        [page] = reply["conversations"]
        assert page["conversation"] == str(chat.id)
        assert [m["seq"] for m in page["messages"]] == ([1, 2] if chat is world.chat else [])


async def test_one_syncs_refusal_leaves_the_sockets_beside_it_answered(
    world: Practice5, connect: Connect
) -> None:
    outsider = await connect(world.other_client)
    member = await connect(world.client)
    asked = {"type": "sync", "after": {str(world.chat.id): 0}}
    refused, answered = await asyncio.gather(outsider.request(asked), member.request(asked))
    assert refused["type"] == "error"
    assert refused["code"] == "not_found"
    assert answered["type"] == "sync"
    # The refused socket goes on: its next sync of its own conversation is answered.
    again = await outsider.request({"type": "sync", "after": {str(world.other_chat.id): 0}})
    assert again["type"] == "sync"


async def test_a_database_that_fails_a_batch_answers_each_sync_unavailable_and_the_next_are_read(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = messages._syncs
    assert batch is not None
    read = batch.store
    down = [True]

    def failing(requests: Sequence[SyncRequest]) -> Sequence[list[Page] | BaseException]:
        if down[0]:
            raise OperationalError("the server closed the connection unexpectedly")
        return read(requests)

    monkeypatch.setattr(batch, "store", failing)
    asked = [(world.client.id, world.chat.id), (world.therapist.id, world.chat.id)]
    failed = await asyncio.gather(
        *(sync_messages(user, {chat: 0}, 50) for user, chat in asked), return_exceptions=True
    )
    assert all(isinstance(f, UnavailableError) for f in failed), failed
    down[0] = False
    pages = await asyncio.gather(*(sync_messages(user, {chat: 0}, 50) for user, chat in asked))
    assert [[p.conversation_id for p in page] for page in pages] == [[world.chat.id]] * 2


async def test_the_sync_reader_replaces_a_connection_the_database_dropped(
    world: Practice5, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader keeps its connection, as production's are kept (60 s). One that the
    database closed meanwhile (PostgreSQL restarted, a pooler's timeout) is checked and
    replaced before the next batch, as Django replaces a request's: the sync is answered,
    not refused as ``unavailable``."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connections.settings["default"], "CONN_HEALTH_CHECKS", True)
    batch = messages._syncs
    assert batch is not None
    loop = asyncio.get_running_loop()

    def backend_pid() -> int | None:
        from django.db import connection

        if connection.connection is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    def terminate(pid: int) -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    try:
        first = await sync_messages(world.client.id, {world.chat.id: 0}, 50)
        kept = await loop.run_in_executor(batch._executor, backend_pid)
        assert kept is not None  # the connection outlived its batch
        await sync_to_async(terminate)(kept)
        again = await sync_messages(world.client.id, {world.chat.id: 0}, 50)
        assert [p.conversation_id for p in again] == [p.conversation_id for p in first]
        assert await loop.run_in_executor(batch._executor, backend_pid) not in (None, kept)
    finally:
        await loop.run_in_executor(batch._executor, connections.close_all)


def test_one_sync_whose_pages_fail_fails_alone(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What goes wrong building one sync's pages (not the database itself) is that sync's
    answer; the syncs beside it are answered."""
    page_after = messages._page_after

    def failing(conversation: Any, seq: int, limit: int, restored: int | None) -> Page:
        if conversation.id == world.other_chat.id:
            raise ValueError("a row that cannot be read")
        return page_after(conversation, seq, limit, restored)

    monkeypatch.setattr(messages, "_page_after", failing)
    first, broken, last = _messages_after_many(
        [
            SyncRequest(world.client.id, {world.chat.id: 0}, 50),
            SyncRequest(world.other_client.id, {world.other_chat.id: 0}, 50),
            SyncRequest(world.therapist.id, {world.chat.id: 0}, 50),
        ]
    )
    assert isinstance(broken, ValueError)
    assert _seqs(first) == _seqs(last) == [(world.chat.id, [], 0)]


def test_a_page_of_a_conversation_whose_erasure_began_meanwhile_holds_no_message(
    world: Practice5,
) -> None:
    """The batch reads its conversations' rows first, and their messages after: an erasure
    that began in between serves none of them."""
    store(world.chat, world.client, 3)
    read_before = Conversation.objects.get(id=world.chat.id)
    Conversation.objects.filter(id=world.chat.id).update(status=Conversation.Status.ERASING)
    page = messages._page_after(read_before, 0, 50, None)
    assert page.messages == ()
