"""Assisted recovery: Clara lost both her password and her recovery key. Her new browser
makes a new identity and asks; Theo sees the request, compares its number with her, and
confirms with every epoch key of their conversation wrapped to the new identity. She signs
in with the new password, opens every epoch of her history, and everyone she writes with
is told who confirmed the change."""

from __future__ import annotations

import pytest

import crypto
from accounts.models import AssistedRecovery
from confide_client.keys import open_key_bundle
from crypto import PublicIdentity
from tests.http.assisted import (
    LIST,
    NEW_PASSWORD,
    add_epoch,
    ask,
    confirm,
    held_keys,
    pending_of,
    rewrap,
    sign_in_with_password,
    stored_envelopes,
    succession,
)
from tests.http.conftest import Browser, BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_theo_confirms_and_clara_reads_every_epoch_with_her_new_identity(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo = world.client, world.therapist
    add_epoch(world.chat, 1, theo)
    add_epoch(world.chat, 2, clara)
    asked = ask(clara.user.email)
    assert asked.reply.status == 200, asked.reply.content
    theo_browser = browser_for(theo)

    listed = theo_browser.get(LIST).json()["recoveries"]

    assert [item["client"]["id"] for item in listed] == [clara.id]
    item = listed[0]
    assert item["new_identity"] == crypto.b64encode(asked.public.to_bytes())
    assert item["conversations"] == [{"conversation": str(world.chat.id), "epochs": [0, 1, 2]}]
    # The number Theo's browser shows is the one Clara's shows.
    served = PublicIdentity.from_bytes(crypto.b64decode(item["new_identity"]))
    assert crypto.identity_number(served) == crypto.identity_number(asked.public)

    theos = held_keys(theo, world.chat.id)
    envelopes = rewrap(theo, world.chat.id, served)
    reply = confirm(theo_browser, item["id"], envelopes, by=theo)

    assert reply.status == 200, reply.content
    decided = reply.json()
    assert decided["state"] == "confirmed"
    assert decided["conversations"] == [str(world.chat.id)]
    assert decided["client"]["public_identity"] == item["new_identity"]
    # Clara signs in with her new password; the bundle opens to the new identity.
    new_browser = Browser()
    signed_in = sign_in_with_password(new_browser, clara.user.email, NEW_PASSWORD)
    assert signed_in.status == 200, signed_in.content
    me = signed_in.json()["user"]
    opened = open_key_bundle(
        NEW_PASSWORD,
        crypto.b64decode(me["kdf"]["salt"]),
        crypto.KdfParams(me["kdf"]["opslimit"], me["kdf"]["memlimit"]),
        crypto.b64decode(me["key_bundle"]),
        PublicIdentity.from_bytes(crypto.b64decode(me["public_identity"])),
    )
    assert opened.public == asked.public
    # Every epoch of the history opens for her, from Theo's envelopes.
    conversation = new_browser.get(f"/api/conversations/{world.chat.id}").json()["conversation"]
    assert [e["epoch"] for e in conversation["envelopes"]] == [0, 1, 2]
    theo_identity = theo.identity.public
    for envelope in conversation["envelopes"]:
        assert envelope["wrapper"] == theo.id
        key = crypto.unwrap_conversation_key(
            crypto.b64decode(envelope["envelope"]),
            asked.identity,
            theo_identity,
            world.chat.id,
            envelope["epoch"],
        )
        assert key == theos[envelope["epoch"]]
    # The old password (its secret) no longer signs in.
    old = Browser().post(
        "/api/auth/signin", {"email": clara.user.email, "auth_secret": clara.auth_secret}
    )
    assert old.status == 401


def test_the_change_is_named_as_a_recovery_confirmed_by_theo(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo = world.client, world.therapist
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    confirm(browser_for(theo), recovery.pk, rewrap(theo, world.chat.id, asked.public), by=theo)

    members = (
        browser_for(theo)
        .get(f"/api/conversations/{world.chat.id}")
        .json()["conversation"]["members"]
    )

    shown = {member["id"]: member for member in members}
    change = shown[clara.id]["identity_changed"]
    assert change["reason"] == "recovery"
    assert (change["confirmed_by"], change["confirmed_by_name"]) == (theo.id, "Theo")
    assert change["at"] is not None
    # The old identity travels only inside the succession Theo signed.
    [signed] = change["successions"]
    stated = crypto.verify_succession(
        crypto.b64decode(signed),
        theo.identity.public,
        user_id=clara.id,
        confirmer_id=theo.id,
        new_identity=asked.public,
    )
    assert stated.previous_identity == clara.identity.public
    assert shown[theo.id].get("identity_changed") is None
    recovery.refresh_from_db()
    assert recovery.state == AssistedRecovery.State.CONFIRMED
    assert bytes(recovery.previous_identity or b"") == clara.identity.public.to_bytes()


def test_a_confirmed_request_cannot_be_confirmed_or_declined_again(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo = world.client, world.therapist
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    envelopes = rewrap(theo, world.chat.id, asked.public)
    signed = succession(theo, recovery.pk)
    assert confirm(browser_for(theo), recovery.pk, envelopes, signed=signed).status == 200
    after = stored_envelopes(clara.id)

    again = confirm(browser_for(theo), recovery.pk, envelopes, signed=signed)
    declined = browser_for(theo).post(f"/api/recoveries/{recovery.pk}/decline")

    assert (again.status, again.code) == (410, "recovery_invalid")
    assert "already confirmed" in again.json()["error"]["message"]
    assert (declined.status, declined.code) == (410, "recovery_invalid")
    assert stored_envelopes(clara.id) == after
    assert browser_for(theo).get(LIST).json()["recoveries"] == []
