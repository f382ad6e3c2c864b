"""``GET /api/conversations?limit=N``: the listing a page at a time, so that an inbox shows
before a long listing has arrived, and nothing is lost between the pages.

The pages follow the newest activity first. A message stored while the pages are read
moves its conversation ahead of the cursor; the last page lists such conversations again,
so the pages together hold every conversation however the inbox moved meanwhile.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Role
from messaging.models import Conversation, Message
from messaging.views import LISTING_MOVED_SLACK, LISTING_PAGE_MAX
from tests.http.conftest import BrowserFor
from tests.personas import Chat, Person, Practice5, make_chat, make_person

pytestmark = pytest.mark.django_db


def cursor(activity: str, conversation: str, since: str) -> str:
    """A cursor as the server writes one, of any fields."""
    text = f"{activity}.{conversation}.{since}".encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def therapist_with(world: Practice5, count: int) -> list[Chat]:
    """``world.therapist`` with ``count`` conversations besides ``world.chat``, each last
    active an hour apart, all well before the listing begins; the newest first."""
    chats = [world.chat] + [
        make_chat(world.practice, world.therapist, make_person(world.practice, Role.CLIENT, name))
        for name in ("Una", "Vic", "Wyn", "Xia", "Yan", "Zed", "Oda", "Pia")[:count]
    ]
    long_ago = timezone.now() - LISTING_MOVED_SLACK - timedelta(days=1)
    for hours, chat in enumerate(chats):
        Conversation.objects.filter(pk=chat.id).update(
            last_message_at=long_ago - timedelta(hours=hours)
        )
    return chats


def pages(
    browser_for: BrowserFor, person: Person, limit: int, between: Any = None
) -> list[list[str]]:
    """Every page of the listing, each as its conversations' ids; ``between`` runs after
    the first page."""
    browser = browser_for(person)
    found: list[list[str]] = []
    query = f"/api/conversations?envelopes=current&limit={limit}"
    while True:
        reply = browser.get(query)
        assert reply.status == 200, reply.content
        body = reply.json()
        found.append([c["id"] for c in body["conversations"]])
        assert len(found) < 20, "the pages never end"
        if body["next"] is None:
            return found
        if len(found) == 1 and between is not None:
            between()
        query = f"/api/conversations?envelopes=current&limit={limit}&after={body['next']}"


def whole(browser_for: BrowserFor, person: Person) -> list[str]:
    reply = browser_for(person).get("/api/conversations?envelopes=current")
    assert reply.status == 200, reply.content
    assert "next" not in reply.json(), "all at once: an answer as before pages"
    return [c["id"] for c in reply.json()["conversations"]]


def test_the_pages_hold_every_conversation_once_newest_first(
    world: Practice5, browser_for: BrowserFor
) -> None:
    chats = therapist_with(world, 6)

    found = pages(browser_for, world.therapist, 3)

    assert [len(page) for page in found] == [3, 3, 1]
    assert [i for page in found for i in page] == [str(c.id) for c in chats]
    assert whole(browser_for, world.therapist) == [str(c.id) for c in chats]


def test_a_page_as_long_as_the_listing_is_the_last(
    world: Practice5, browser_for: BrowserFor
) -> None:
    chats = therapist_with(world, 2)

    assert pages(browser_for, world.therapist, 3) == [[str(c.id) for c in chats]]
    assert pages(browser_for, world.client, 1) == [[str(world.chat.id)]]


def test_conversations_as_active_as_each_other_are_paged_by_id(
    world: Practice5, browser_for: BrowserFor
) -> None:
    chats = therapist_with(world, 4)
    same = timezone.now() - timedelta(days=2)
    Conversation.objects.filter(pk__in=[c.id for c in chats]).update(last_message_at=same)

    found = pages(browser_for, world.therapist, 2)

    assert [len(page) for page in found] == [2, 2, 1]
    flat = [i for page in found for i in page]
    assert sorted(flat) == sorted(str(c.id) for c in chats)
    assert flat == sorted(flat, reverse=True), "ties go by id, so no page repeats or skips one"


def test_a_conversation_that_moves_while_the_pages_are_read_is_still_listed(
    world: Practice5, browser_for: BrowserFor
) -> None:
    chats = therapist_with(world, 6)
    oldest = chats[-1]

    def a_message_in_the_oldest() -> None:
        # As the writer stores one: the conversation is now the newest, behind the cursor.
        message_id, wire = oldest.seal(oldest.members[0], "still there?")
        Message.objects.create(
            conversation=oldest.conversation,
            seq=1,
            client_message_id=message_id,
            epoch=0,
            sender=oldest.members[0].user,
            ciphertext=wire,
        )
        Conversation.objects.filter(pk=oldest.id).update(last_seq=1, last_message_at=timezone.now())

    found = pages(browser_for, world.therapist, 3, between=a_message_in_the_oldest)

    flat = [i for page in found for i in page]
    assert sorted(flat) == sorted(str(c.id) for c in chats), "none lost, none twice"
    assert found[-1][-1] == str(oldest.id), "listed again on the last page"
    assert whole(browser_for, world.therapist)[0] == str(oldest.id)


def test_a_conversation_begun_while_the_pages_are_read_is_listed(
    world: Practice5, browser_for: BrowserFor
) -> None:
    chats = therapist_with(world, 4)
    begun: list[Chat] = []

    def a_client_accepts_an_invitation() -> None:
        begun.append(
            make_chat(
                world.practice, world.therapist, make_person(world.practice, Role.CLIENT, "Kit")
            )
        )

    found = pages(browser_for, world.therapist, 2, between=a_client_accepts_an_invitation)

    flat = [i for page in found for i in page]
    assert sorted(flat) == sorted(str(c.id) for c in [*chats, *begun])


def test_a_conversation_active_lately_may_come_twice_and_is_the_same_both_times(
    world: Practice5, browser_for: BrowserFor
) -> None:
    chats = therapist_with(world, 3)
    Conversation.objects.filter(pk=chats[0].id).update(last_message_at=timezone.now())

    found = pages(browser_for, world.therapist, 2)

    flat = [i for page in found for i in page]
    assert set(flat) == {str(c.id) for c in chats}
    assert flat.count(str(chats[0].id)) == 2, "first, and again among those active lately"
    assert len(flat) == len(chats) + 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit is a whole number from 1 to"),
        (f"limit={LISTING_PAGE_MAX + 1}", "limit is a whole number from 1 to"),
        ("limit=ten", "limit is a whole number from 1 to"),
        ("limit=-3", "limit is a whole number from 1 to"),
        ("after=MTIz", "after needs a limit"),
        ("limit=2&after=not-a-cursor", "after is not a cursor this listing gave"),
        ("limit=2&after=MTIzLjQ1Ni43ODk", "after is not a cursor this listing gave"),
        ("limit=2&after=%E2%98%83", "after is not a cursor this listing gave"),
        ("limit=%C2%B2", "limit is a whole number from 1 to"),
        ("limit=007", "limit is a whole number from 1 to"),
        ("limit=" + "9" * 5000, "limit is a whole number from 1 to"),
        (f"limit=2&after={cursor('9' * 19, '0' * 32, '1')}", "after is not a cursor"),
        (f"limit=2&after={cursor('1', '0' * 32, '1' * 30)}", "after is not a cursor"),
        (f"limit=2&after={cursor('1', 'z' * 32, '1')}", "after is not a cursor"),
        (f"limit=2&after={cursor('1', '0' * 32, '1')}{'A' * 300}", "after is not a cursor"),
    ],
)
def test_a_bad_page_request_is_refused_and_says_why(
    world: Practice5, browser_for: BrowserFor, query: str, message: str
) -> None:
    reply = browser_for(world.therapist).get(f"/api/conversations?{query}")

    assert reply.status == 400, reply.content
    assert reply.json()["error"]["code"] == "bad_request"
    assert message in reply.json()["error"]["message"]


def test_a_cursor_lists_only_the_callers_own_conversations(
    world: Practice5, browser_for: BrowserFor
) -> None:
    therapist_with(world, 3)
    reply = browser_for(world.therapist).get("/api/conversations?limit=1").json()
    assert reply["next"] is not None

    theirs = browser_for(world.other_therapist).get(
        f"/api/conversations?limit=5&after={reply['next']}"
    )

    assert reply["conversations"][0]["id"] == str(world.chat.id)
    assert theirs.status == 200
    assert [c["id"] for c in theirs.json()["conversations"]] == [str(world.other_chat.id)]
