"""``GET /api/conversations``: the caller's own conversations, unread counts and keys.

The list is how a new browser learns which conversations exist and gets its wrapped
epoch keys, so it must hold the caller's conversations only, and their envelopes only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

import crypto
from accounts.models import Role
from crypto import ConversationKey
from messaging.models import Conversation, KeyEnvelope, Membership, Message
from tests.http.conftest import BrowserFor
from tests.personas import Chat, Person, Practice5, make_chat, make_person, now_ms

pytestmark = pytest.mark.django_db


def listed(browser_for: BrowserFor, person: Person) -> list[dict[str, Any]]:
    reply = browser_for(person).get("/api/conversations")
    assert reply.status == 200, reply.content
    conversations: list[dict[str, Any]] = reply.json()["conversations"]
    return conversations


def member_json(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "display_name": person.user.display_name,
        "role": person.user.role,
        "public_identity": crypto.b64encode(person.identity.public.to_bytes()),
    }


def store(chat: Chat, sender: Person, seq: int) -> None:
    """A message as the send service would store it, with a real sealed ciphertext."""
    message_id, wire = chat.seal(sender, f"message {seq}")
    Message.objects.create(
        conversation=chat.conversation,
        seq=seq,
        client_message_id=message_id,
        epoch=0,
        sender=sender.user,
        ciphertext=wire,
    )
    Conversation.objects.filter(pk=chat.id).update(last_seq=seq, last_message_at=timezone.now())


def read_up_to(chat: Chat, person: Person, seq: int) -> None:
    Membership.objects.filter(conversation=chat.conversation, user=person.user).update(
        last_read_seq=seq
    )


def test_each_person_sees_only_their_own_conversations(
    world: Practice5, browser_for: BrowserFor
) -> None:
    mine = {str(world.chat.id)}
    others = {str(world.other_chat.id)}
    assert {c["id"] for c in listed(browser_for, world.client)} == mine
    assert {c["id"] for c in listed(browser_for, world.therapist)} == mine
    assert {c["id"] for c in listed(browser_for, world.other_therapist)} == others
    assert {c["id"] for c in listed(browser_for, world.other_client)} == others
    assert listed(browser_for, world.admin) == []


def test_a_therapist_sees_every_conversation_of_his_newest_first(
    world: Practice5, browser_for: BrowserFor
) -> None:
    cleo = make_person(world.practice, Role.CLIENT, "Cleo")
    second = make_chat(world.practice, world.therapist, cleo)
    store(world.chat, world.client, 1)
    store(second, cleo, 1)
    Conversation.objects.filter(pk=world.chat.id).update(
        last_message_at=timezone.now() - timedelta(hours=1)
    )

    assert [c["id"] for c in listed(browser_for, world.therapist)] == [
        str(second.id),
        str(world.chat.id),
    ]
    assert [c["id"] for c in listed(browser_for, world.client)] == [str(world.chat.id)]


def test_the_members_are_shown_with_their_public_identities_only(
    world: Practice5, browser_for: BrowserFor
) -> None:
    [conversation] = listed(browser_for, world.client)

    members = sorted(conversation["members"], key=lambda member: member["id"])
    expected = sorted(
        [member_json(world.client), member_json(world.therapist)], key=lambda m: m["id"]
    )
    assert members == expected


def test_unread_counts_the_other_members_messages_after_the_last_read_one(
    world: Practice5, browser_for: BrowserFor
) -> None:
    theo, clara = world.therapist, world.client
    for seq, sender in enumerate([theo, theo, theo, clara, theo], start=1):
        store(world.chat, sender, seq)
    read_up_to(world.chat, clara, 1)
    read_up_to(world.chat, theo, 4)

    [for_clara] = listed(browser_for, clara)
    [for_theo] = listed(browser_for, theo)

    # Clara has read seq 1; Theo's 2, 3 and 5 are unread, her own 4 is not.
    assert (for_clara["last_read_seq"], for_clara["unread"]) == (1, 3)
    # Theo has read up to 4; nothing of Clara's comes after it.
    assert (for_theo["last_read_seq"], for_theo["unread"]) == (4, 0)
    assert for_clara["last_seq"] == for_theo["last_seq"] == 5
    assert for_clara["read_seqs"] == {str(clara.id): 1, str(theo.id): 4}


def test_unread_is_zero_when_only_the_caller_has_written(
    world: Practice5, browser_for: BrowserFor
) -> None:
    for seq in (1, 2):
        store(world.chat, world.client, seq)

    [for_clara] = listed(browser_for, world.client)
    [for_theo] = listed(browser_for, world.therapist)

    assert for_clara["unread"] == 0
    assert for_theo["unread"] == 2


def test_unread_counts_one_conversation_at_a_time(
    world: Practice5, browser_for: BrowserFor
) -> None:
    cleo = make_person(world.practice, Role.CLIENT, "Cleo")
    second = make_chat(world.practice, world.therapist, cleo)
    store(world.chat, world.client, 1)
    for seq in (1, 2, 3):
        store(second, cleo, seq)

    unread = {c["id"]: c["unread"] for c in listed(browser_for, world.therapist)}

    assert unread == {str(world.chat.id): 1, str(second.id): 3}


def add_epoch(chat: Chat, epoch: int, wrapper: Person) -> ConversationKey:
    key = ConversationKey.generate()
    created_at = now_ms()
    for member in chat.members:
        KeyEnvelope.objects.create(
            conversation=chat.conversation,
            epoch=epoch,
            recipient=member.user,
            wrapper=wrapper.user,
            envelope=crypto.wrap_conversation_key(
                key, chat.id, epoch, member.identity.public, wrapper.identity, created_at
            ),
        )
    # As the rekey stores it: the epoch's messages are those numbered after this.
    Conversation.objects.filter(pk=chat.id).update(
        current_epoch=epoch, epoch_start_seq=F("last_seq")
    )
    return key


@pytest.mark.parametrize("who", ["client", "therapist"])
def test_only_the_callers_own_envelopes_are_listed_and_they_open(
    world: Practice5, browser_for: BrowserFor, who: str
) -> None:
    person: Person = getattr(world, who)
    wrappers = {0: world.client, 1: world.therapist}
    keys = {0: world.chat.key, 1: add_epoch(world.chat, 1, world.therapist)}

    [conversation] = listed(browser_for, person)

    assert conversation["current_epoch"] == 1
    envelopes = conversation["envelopes"]
    assert [(e["epoch"], e["wrapper"]) for e in envelopes] == [
        (0, world.client.id),
        (1, world.therapist.id),
    ]
    stored = {
        e.epoch: crypto.b64encode(bytes(e.envelope))
        for e in KeyEnvelope.objects.filter(
            conversation=world.chat.conversation, recipient=person.user
        )
    }
    assert {e["epoch"]: e["envelope"] for e in envelopes} == stored
    for envelope in envelopes:
        epoch = envelope["epoch"]
        key = crypto.unwrap_conversation_key(
            crypto.b64decode(envelope["envelope"]),
            person.identity,
            wrappers[epoch].identity.public,
            world.chat.id,
            epoch,
        )
        assert key == keys[epoch]


@pytest.mark.parametrize("who", ["client", "therapist"])
def test_asked_for_current_envelopes_the_listing_carries_only_the_current_epochs(
    world: Practice5, browser_for: BrowserFor, who: str
) -> None:
    person: Person = getattr(world, who)
    other = make_chat(
        world.practice, world.therapist, make_person(world.practice, Role.CLIENT, "Noor")
    )
    for epoch in (1, 2):
        add_epoch(world.chat, epoch, world.therapist)
    everything = {c["id"]: c for c in listed(browser_for, person)}

    reply = browser_for(person).get("/api/conversations?envelopes=current")

    assert reply.status == 200, reply.content
    current = {c["id"]: c for c in reply.json()["conversations"]}
    assert list(current) == list(everything)
    assert [e["epoch"] for e in everything[str(world.chat.id)]["envelopes"]] == [0, 1, 2]
    assert (
        current[str(world.chat.id)]["envelopes"] == everything[str(world.chat.id)]["envelopes"][-1:]
    )
    for id, conversation in current.items():
        whole = everything[id]
        assert {**conversation, "envelopes": whole["envelopes"]} == whole, "only envelopes differ"
    if who == "therapist":
        assert current[str(other.id)]["envelopes"] == everything[str(other.id)]["envelopes"]
    detail = browser_for(person).get(f"/api/conversations/{world.chat.id}").json()
    assert detail["conversation"] == everything[str(world.chat.id)], "the detail has them all"
    assert browser_for(person).get("/api/conversations?envelopes=all").json() == {
        "conversations": list(everything.values())
    }


def test_the_listing_refuses_another_choice_of_envelopes(
    world: Practice5, browser_for: BrowserFor
) -> None:
    reply = browser_for(world.client).get("/api/conversations?envelopes=older")
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "bad_request"


def test_a_member_gets_one_conversation_as_it_is_listed(
    world: Practice5, browser_for: BrowserFor
) -> None:
    store(world.chat, world.therapist, 1)
    clara = browser_for(world.client)

    reply = clara.get(f"/api/conversations/{world.chat.id}")

    assert reply.status == 200, reply.content
    [as_listed] = listed(browser_for, world.client)
    assert reply.json() == {"conversation": as_listed}
    assert as_listed["id"] == str(world.chat.id)
    assert as_listed["status"] == "active"
    assert as_listed["unread"] == 1
    assert as_listed["last_message_at"] is not None


def test_a_deactivated_member_sees_no_conversations(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    world.client.user.is_active = False
    world.client.user.save()

    assert clara.get("/api/conversations").status == 401
    assert clara.get(f"/api/conversations/{world.chat.id}").status == 401


def test_the_epochs_start_and_message_count_are_listed_for_the_rotation_policy(
    world: Practice5, browser_for: BrowserFor
) -> None:
    chat = world.chat
    for seq in (1, 2, 3):
        store(chat, world.client, seq)
    started = timezone.now() - timedelta(days=8)
    Conversation.objects.filter(pk=chat.id).update(epoch_started_at=started)

    [at_first] = listed(browser_for, world.therapist)
    assert at_first["epoch_messages"] == 3
    assert at_first["epoch_started_at"] == started.isoformat()
    assert at_first["unread"] == 3  # counted beside, not instead of, the epoch's messages

    add_epoch(chat, 1, world.therapist)
    [after_rekey] = listed(browser_for, world.client)
    assert after_rekey["current_epoch"] == 1
    assert after_rekey["epoch_messages"] == 0
