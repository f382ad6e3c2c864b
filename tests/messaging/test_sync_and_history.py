"""Backfill after a sequence number, and paged history."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

import crypto
from accounts.models import Role
from messaging.models import Message
from messaging.services.messages import Page, SyncRequest, _messages_after_many
from protocol.errors import NotFoundError
from tests.messaging.conftest import Connect
from tests.personas import Chat, Person, Practice5

pytestmark = pytest.mark.django_db(transaction=True)


def store(chat: Chat, sender: Person, count: int) -> list[uuid.UUID]:
    """Stores messages directly, as the send service would have."""
    ids = []
    conversation = chat.conversation
    for _ in range(count):
        message_id, wire = chat.seal(sender, f"m{conversation.last_seq + 1}")
        conversation.last_seq += 1
        Message.objects.create(
            conversation=conversation,
            seq=conversation.last_seq,
            client_message_id=message_id,
            epoch=0,
            sender=sender.user,
            ciphertext=wire,
        )
        ids.append(message_id)
    conversation.save(update_fields=["last_seq"])
    return ids


def _messages_after(user_id: int, after: dict[uuid.UUID, int], limit: int) -> list[Page]:
    """One sync's pages, read as a batch of one; raises its refusal."""
    [pages] = _messages_after_many([SyncRequest(user_id, after, limit)])
    if isinstance(pages, BaseException):
        raise pages
    return pages


def texts(chat: Chat, frames: list[dict[str, object]], sender: Person) -> list[str]:
    return [
        crypto.open_text(
            crypto.b64decode(str(f["ciphertext"])), chat.key, sender.identity.public, chat.id, 0
        )
        for f in frames
    ]


async def test_sync_returns_what_came_after_the_given_seq_in_order(
    world: Practice5, connect: Connect
) -> None:
    await database_sync_to_async(store)(world.chat, world.therapist, 5)
    clara = await connect(world.client)
    reply = await clara.request({"type": "sync", "after": {str(world.chat.id): 2}})
    [page] = reply["conversations"]
    assert page["conversation"] == str(world.chat.id)
    assert [m["seq"] for m in page["messages"]] == [3, 4, 5]
    assert texts(world.chat, page["messages"], world.therapist) == ["m3", "m4", "m5"]
    assert (page["has_more"], page["last_seq"]) == (False, 5)


@override_settings(CONFIDE_HISTORY_PAGE=4)
async def test_sync_pages_until_has_more_is_false(world: Practice5, connect: Connect) -> None:
    await database_sync_to_async(store)(world.chat, world.therapist, 10)
    clara = await connect(world.client)
    held: list[int] = []
    while True:
        after = held[-1] if held else 0
        reply = await clara.request({"type": "sync", "after": {str(world.chat.id): after}})
        [page] = reply["conversations"]
        held += [m["seq"] for m in page["messages"]]
        if not page["has_more"]:
            break
    assert held == list(range(1, 11))


async def test_sync_with_nothing_listed_returns_nothing(world: Practice5, connect: Connect) -> None:
    clara = await connect(world.client)
    assert (await clara.request({"type": "sync"}))["conversations"] == []


async def test_history_pages_backwards_from_the_newest(world: Practice5, connect: Connect) -> None:
    await database_sync_to_async(store)(world.chat, world.therapist, 7)
    clara = await connect(world.client)
    newest = await clara.request(
        {"type": "history", "conversation": str(world.chat.id), "limit": 3}
    )
    assert [m["seq"] for m in newest["messages"]] == [5, 6, 7]
    assert newest["has_more"] is True
    older = await clara.request(
        {"type": "history", "conversation": str(world.chat.id), "before": 5, "limit": 3}
    )
    assert [m["seq"] for m in older["messages"]] == [2, 3, 4]
    oldest = await clara.request(
        {"type": "history", "conversation": str(world.chat.id), "before": 2, "limit": 3}
    )
    assert [m["seq"] for m in oldest["messages"]] == [1]
    assert oldest["has_more"] is False


@override_settings(CONFIDE_HISTORY_PAGE=5)
async def test_history_never_returns_more_than_the_configured_page(
    world: Practice5, connect: Connect
) -> None:
    await database_sync_to_async(store)(world.chat, world.therapist, 8)
    clara = await connect(world.client)
    reply = await clara.request(
        {"type": "history", "conversation": str(world.chat.id), "limit": 1000}
    )
    assert len(reply["messages"]) == 5


async def test_a_missed_push_is_recovered_by_sync(world: Practice5, connect: Connect) -> None:
    """The channel layer may drop events: a socket that missed one still gets the message."""
    theo = await connect(world.therapist)
    # Stored without any broadcast, as if the push were lost.
    [message_id] = await database_sync_to_async(store)(world.chat, world.client, 1)
    assert await theo.nothing()
    reply = await theo.request({"type": "sync", "after": {str(world.chat.id): 0}})
    [page] = reply["conversations"]
    assert [m["client_message_id"] for m in page["messages"]] == [str(message_id)]


def test_a_sync_of_many_conversations_reads_the_messages_only_of_those_with_news(
    world: Practice5, django_assert_num_queries: Any
) -> None:
    """One query for every conversation's membership, and one for each conversation with
    messages after the number given: a reconnect's sync of a whole caseload with one new
    message costs two queries, not two per conversation."""
    from tests.personas import make_chat, make_person

    chats = [world.chat] + [
        make_chat(
            world.practice, world.therapist, make_person(world.practice, Role.CLIENT, f"Client {n}")
        )
        for n in range(20)
    ]
    store(chats[5], world.therapist, 2)
    after = {chat.id: 0 for chat in chats}
    after[chats[5].id] = 1
    with django_assert_num_queries(2):  # the memberships, one page (no restore here)
        pages = _messages_after(world.therapist.id, after, 50)
    assert [(p.conversation_id, [m.seq for m in p.messages]) for p in pages] == [
        (chat.id, [2] if chat is chats[5] else []) for chat in chats
    ]
    assert all(not p.has_more for p in pages)


def test_a_sync_naming_a_conversation_of_someone_else_is_refused_whole(
    world: Practice5,
) -> None:
    with pytest.raises(NotFoundError):
        _messages_after(world.client.id, {world.chat.id: 0, world.other_chat.id: 0}, 50)
