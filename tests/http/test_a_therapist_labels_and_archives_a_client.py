"""``POST /api/conversations/<id>/label`` and ``.../archive``: a therapist's own name for a
client and their own archive, kept on the therapist's membership, listed to them alone and
never to the client. An archived conversation comes back to the main list once the client
writes after it was archived."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import Conversation, Membership, Message
from protocol.http import InboxEntryAnswer
from tests.http.conftest import Browser, BrowserFor, Reply
from tests.personas import Chat, Person, Practice5

pytestmark = pytest.mark.django_db


def label(person: Person, chat: Chat | str, body: Any) -> Reply:
    conversation = chat if isinstance(chat, str) else str(chat.id)
    return Browser().sign_in_as(person).post(f"/api/conversations/{conversation}/label", body)


def archive(person: Person, chat: Chat | str, archived: bool) -> Reply:
    conversation = chat if isinstance(chat, str) else str(chat.id)
    return (
        Browser()
        .sign_in_as(person)
        .post(f"/api/conversations/{conversation}/archive", {"archived": archived})
    )


def listed(person: Person) -> dict[str, Any]:
    """The person's one conversation, as ``GET /api/conversations`` lists it."""
    reply = Browser().sign_in_as(person).get("/api/conversations")
    assert reply.status == 200, reply.content
    [conversation] = reply.json()["conversations"]
    assert isinstance(conversation, dict)
    return conversation


def membership(chat: Chat, person: Person) -> Membership:
    return Membership.objects.get(conversation=chat.conversation, user=person.user)


def store(chat: Chat, sender: Person, at: Any = None) -> None:
    """A message as the send service stores it, at ``at`` (now unless told)."""
    at = at or timezone.now()
    seq = chat.conversation.last_seq + 1
    message_id, wire = chat.seal(sender, f"message {seq}")
    Message.objects.create(
        conversation=chat.conversation,
        seq=seq,
        client_message_id=message_id,
        epoch=0,
        sender=sender.user,
        ciphertext=wire,
        created_at=at,
    )
    Conversation.objects.filter(pk=chat.id).update(last_seq=seq, last_message_at=at)
    chat.conversation.refresh_from_db()


def test_a_label_is_listed_to_the_therapist_and_never_to_the_client(world: Practice5) -> None:
    reply = label(world.therapist, world.chat, {"label": "Clara (Tuesdays, grief)"})

    assert reply.status == 200, reply.content
    assert InboxEntryAnswer.model_validate_json(reply.content) == InboxEntryAnswer(
        conversation=world.chat.id, label="Clara (Tuesdays, grief)", archived_at=None
    )
    assert listed(world.therapist)["label"] == "Clara (Tuesdays, grief)"
    for_clara = Browser().sign_in_as(world.client)
    for path in ("/api/conversations", f"/api/conversations/{world.chat.id}", "/api/me"):
        answer = for_clara.get(path)
        assert answer.status == 200
        assert b"Tuesdays" not in answer.content
    assert listed(world.client)["label"] == ""
    # The client's own name is unchanged, for both of them.
    names = {m["id"]: m["display_name"] for m in listed(world.therapist)["members"]}
    assert names[world.client.id] == "Clara"


def test_a_label_is_trimmed_and_an_empty_one_removes_it(world: Practice5) -> None:
    assert label(world.therapist, world.chat, {"label": "  C. M. \t"}).json()["label"] == "C. M."
    assert membership(world.chat, world.therapist).label == "C. M."

    cleared = label(world.therapist, world.chat, {"label": "   "})

    assert cleared.json()["label"] == ""
    assert membership(world.chat, world.therapist).label == ""
    assert listed(world.therapist)["label"] == ""


@pytest.mark.parametrize(
    "text",
    ["x" * 150, "Zoë Ångström-Ødegaard", "クララ", "Clara 🌱", "O'Brien, Clara (she/her)"],
    ids=["150 characters", "accents", "kana", "emoji", "punctuation"],
)
def test_a_label_of_any_printable_text_up_to_150_characters_is_kept(
    world: Practice5, text: str
) -> None:
    reply = label(world.therapist, world.chat, {"label": text})

    assert reply.status == 200, reply.content
    assert membership(world.chat, world.therapist).label == text


@pytest.mark.parametrize(
    "text",
    [
        "x" * 151,
        "Clara\x00",
        "Clara\nSmith",
        "Clara\tSmith",
        "Clara\x1b[31m",
        "Clara\x7f",
        "Cla\x85ra",
        "Clara\u202eevil",
        "Clara\u2066x\u2069",
    ],
    ids=[
        "151 characters",
        "NUL",
        "newline",
        "tab",
        "escape sequence",
        "DEL",
        "C1 control",
        "right-to-left override",
        "isolate",
    ],
)
def test_a_label_too_long_or_with_control_characters_is_refused_and_changes_nothing(
    world: Practice5, text: str
) -> None:
    assert label(world.therapist, world.chat, {"label": "Kept"}).status == 200

    reply = label(world.therapist, world.chat, {"label": text})

    assert (reply.status, reply.code) == (400, "bad_request")
    assert "label" in reply.json()["error"]["message"]
    assert membership(world.chat, world.therapist).label == "Kept"


@pytest.mark.parametrize(
    "body",
    [{}, {"label": 5}, {"label": None}, {"label": "x", "client": True}, ["x"]],
    ids=["missing", "a number", "null", "an extra field", "a list"],
)
def test_a_label_request_of_the_wrong_shape_is_refused(world: Practice5, body: Any) -> None:
    reply = label(world.therapist, world.chat, body)

    assert (reply.status, reply.code) == (400, "bad_request")
    assert membership(world.chat, world.therapist).label == ""


def test_archiving_is_listed_to_the_therapist_only_until_unarchived(world: Practice5) -> None:
    before = timezone.now()
    reply = archive(world.therapist, world.chat, True)

    assert reply.status == 200, reply.content
    answer = InboxEntryAnswer.model_validate_json(reply.content)
    assert answer.archived_at is not None and answer.archived_at >= before
    assert listed(world.therapist)["archived_at"] == answer.archived_at.isoformat()
    assert listed(world.client)["archived_at"] is None

    back = archive(world.therapist, world.chat, False)

    assert back.json()["archived_at"] is None
    assert membership(world.chat, world.therapist).archived_at is None
    assert listed(world.therapist)["archived_at"] is None


def test_a_message_from_the_client_after_archiving_brings_it_back(world: Practice5) -> None:
    archived_at = archive(world.therapist, world.chat, True).json()["archived_at"]
    store(world.chat, world.therapist)
    assert listed(world.therapist)["archived_at"] == archived_at, "their own message keeps it"

    store(world.chat, world.client)

    entry = listed(world.therapist)
    assert entry["archived_at"] is None
    assert entry["unread"] == 1
    # Archiving again puts it away again, until the client's next message.
    assert archive(world.therapist, world.chat, True).json()["archived_at"] is not None
    assert listed(world.therapist)["archived_at"] is not None


def test_a_message_from_before_the_archive_does_not_bring_it_back(world: Practice5) -> None:
    store(world.chat, world.client, timezone.now() - timedelta(minutes=5))

    archive(world.therapist, world.chat, True)

    assert listed(world.therapist)["archived_at"] is not None


def test_the_label_answer_says_whether_the_conversation_is_archived(world: Practice5) -> None:
    archive(world.therapist, world.chat, True)
    assert label(world.therapist, world.chat, {"label": "A"}).json()["archived_at"] is not None

    store(world.chat, world.client)

    assert label(world.therapist, world.chat, {"label": "B"}).json()["archived_at"] is None


def test_labels_and_archives_cost_the_listing_no_query(world: Practice5) -> None:
    browser = Browser().sign_in_as(world.therapist)
    browser.get("/api/conversations")
    with CaptureQueriesContext(connection) as plain:
        browser.get("/api/conversations")
    label(world.therapist, world.chat, {"label": "C."})
    archive(world.therapist, world.chat, True)
    store(world.chat, world.client)

    with CaptureQueriesContext(connection) as filed:
        browser.get("/api/conversations")

    assert len(filed.captured_queries) == len(plain.captured_queries)


@pytest.mark.parametrize("who", ["client", "other_client", "admin"])
def test_a_client_or_an_admin_may_neither_label_nor_archive(
    world: Practice5, browser_for: BrowserFor, who: str
) -> None:
    browser = browser_for(getattr(world, who))

    for reply in (
        browser.post(f"/api/conversations/{world.chat.id}/label", {"label": "mine"}),
        browser.post(f"/api/conversations/{world.chat.id}/archive", {"archived": True}),
    ):
        assert (reply.status, reply.code) == (403, "forbidden")
    for person in (world.client, world.therapist):
        assert (
            membership(world.chat, person).label,
            membership(world.chat, person).archived_at,
        ) == (
            "",
            None,
        )


def test_another_therapists_conversation_is_not_found_like_one_that_does_not_exist(
    world: Practice5,
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    olive = world.other_therapist
    for theirs, nowhere in [
        (label(olive, world.chat, {"label": "mine"}), label(olive, missing, {"label": "mine"})),
        (archive(olive, world.chat, True), archive(olive, missing, True)),
    ]:
        assert (theirs.status, theirs.code) == (404, "not_found")
        assert theirs.json() == nowhere.json()
    theo = membership(world.chat, world.therapist)
    assert (theo.label, theo.archived_at) == ("", None)


def test_each_therapist_files_only_their_own_conversations(world: Practice5) -> None:
    label(world.therapist, world.chat, {"label": "Theo's name for Clara"})
    archive(world.other_therapist, world.other_chat, True)

    assert (listed(world.therapist)["label"], listed(world.therapist)["archived_at"]) == (
        "Theo's name for Clara",
        None,
    )
    assert listed(world.other_therapist)["label"] == ""
    assert listed(world.other_therapist)["archived_at"] is not None
