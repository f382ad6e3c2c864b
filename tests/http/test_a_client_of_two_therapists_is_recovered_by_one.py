"""A client with two therapists: both see the request, either may confirm it, and the one
who confirms gives back the history of their own conversations only. The other
conversation keeps the client's old envelopes (its history stays closed to the client
until that therapist shares it, and its next epoch reaches the new identity); its therapist
is told who confirmed the change."""

from __future__ import annotations

import pytest

from tests.http.assisted import LIST, ask, confirm, pending_of, rewrap, stored_envelopes
from tests.http.conftest import BrowserFor
from tests.personas import Practice5, make_chat

pytestmark = pytest.mark.django_db


def test_theo_confirms_and_olives_conversation_keeps_its_envelopes(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo, olive = world.client, world.therapist, world.other_therapist
    olives_chat = make_chat(world.practice, olive, clara)
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    with_olive = [e for e in stored_envelopes(clara.id) if e[0] == str(olives_chat.id)]

    seen_by_olive = browser_for(olive).get(LIST).json()["recoveries"]
    theos_only = rewrap(theo, world.chat.id, asked.public)
    reply = confirm(browser_for(theo), recovery.pk, theos_only, by=theo)

    assert [item["id"] for item in seen_by_olive] == [recovery.pk]
    assert seen_by_olive[0]["conversations"] == [
        {"conversation": str(olives_chat.id), "epochs": [0]}
    ]
    assert reply.status == 200, reply.content
    assert reply.json()["conversations"] == [str(world.chat.id)]
    after = stored_envelopes(clara.id)
    assert [e for e in after if e[0] == str(olives_chat.id)] == with_olive
    assert [e[2] for e in after if e[0] == str(world.chat.id)] == [theo.id]
    members = (
        browser_for(olive)
        .get(f"/api/conversations/{olives_chat.id}")
        .json()["conversation"]["members"]
    )
    change = next(m for m in members if m["id"] == clara.id)["identity_changed"]
    assert (change["confirmed_by"], change["confirmed_by_name"]) == (theo.id, "Theo")
    assert browser_for(olive).get(LIST).json()["recoveries"] == []


def test_olive_cannot_confirm_with_theos_conversation(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo, olive = world.client, world.therapist, world.other_therapist
    make_chat(world.practice, olive, clara)
    asked = ask(clara.user.email)
    recovery = pending_of(clara)

    reply = confirm(
        browser_for(olive), recovery.pk, rewrap(theo, world.chat.id, asked.public), by=olive
    )

    assert (reply.status, reply.code) == (400, "bad_envelopes")
    assert pending_of(clara).pk == recovery.pk
