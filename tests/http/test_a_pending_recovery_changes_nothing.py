"""Asking for an assisted recovery changes nothing of the account: the old password still
signs in, the identity and envelopes stay, and the answer is the same whether or not the
email has a client account (nothing is kept for one without). A new request replaces an
older pending one; a therapist's decline ends it, and the account stays as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AssistedRecovery, RecoveryEnvelope
from tests.http.assisted import (
    LIST,
    REQUEST,
    ask,
    decline,
    new_material,
    pending_of,
    request_body,
    rewrap,
    stage,
    stored_account,
    stored_envelopes,
)
from tests.http.conftest import Browser, BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_a_request_leaves_the_account_and_its_envelopes_as_they_were(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = world.client
    before = stored_account(clara.id)
    envelopes = stored_envelopes(clara.id)

    asked = ask(clara.user.email)

    assert asked.reply.status == 200
    assert stored_account(clara.id) == before
    assert stored_envelopes(clara.id) == envelopes
    signed_in = Browser().post(
        "/api/auth/signin", {"email": clara.user.email, "auth_secret": clara.auth_secret}
    )
    assert signed_in.status == 200
    me = browser_for(clara).get("/api/me").json()["user"]
    assert me.get("identity_changed") is None
    # The secret is kept only hashed, as an account's is.
    assert asked.material.auth_secret.hex() not in pending_of(clara).password


def test_the_answer_is_the_same_with_or_without_an_account(world: Practice5) -> None:
    material = new_material()
    answers = {}
    for email in (world.client.user.email, "nobody@practice.invalid", world.therapist.user.email):
        reply = Browser().post(REQUEST, request_body(email, material))
        assert reply.status == 200, reply.content
        answers[email] = reply.json()

    assert {tuple(answer) for answer in answers.values()} == {("expires_at",)}
    # Only the client account keeps a request; a therapist is not recovered this way.
    assert AssistedRecovery.objects.count() == 1
    assert AssistedRecovery.objects.get().client_id == world.client.id


def test_malformed_material_is_refused_whatever_the_email(world: Practice5) -> None:
    material = new_material()
    for email in (world.client.user.email, "nobody@practice.invalid"):
        swapped = request_body(email, material)["recovery_bundle"]
        body = request_body(email, material, key_bundle=swapped)
        reply = Browser().post(REQUEST, body)
        assert (reply.status, reply.code) == (400, "bad_request")
    assert AssistedRecovery.objects.count() == 0


def test_a_new_request_replaces_the_pending_one(world: Practice5, browser_for: BrowserFor) -> None:
    clara, theo = world.client, world.therapist
    first = ask(clara.user.email)
    older = pending_of(clara)
    envelopes = rewrap(theo, world.chat.id, first.public)
    assert stage(browser_for(theo), older.pk, envelopes).status == 200

    second = ask(clara.user.email)

    listed = browser_for(theo).get(LIST).json()["recoveries"]
    assert len(listed) == 1
    assert listed[0]["id"] == pending_of(clara).pk != older.pk
    older.refresh_from_db()
    assert older.state == AssistedRecovery.State.REPLACED
    assert not RecoveryEnvelope.objects.filter(recovery=older).exists()
    assert second.reply.status == 200


def test_a_declined_request_ends_and_changes_nothing(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo = world.client, world.therapist
    ask(clara.user.email)
    before = stored_account(clara.id)
    recovery = pending_of(clara)

    reply = decline(browser_for(theo), recovery.pk)

    assert reply.status == 200, reply.content
    assert reply.json()["state"] == "declined"
    assert stored_account(clara.id) == before
    assert browser_for(theo).get(LIST).json()["recoveries"] == []
    recovery.refresh_from_db()
    assert (recovery.state, recovery.decided_by_id) == (AssistedRecovery.State.DECLINED, theo.id)


def test_an_expired_request_is_not_listed(world: Practice5, browser_for: BrowserFor) -> None:
    ask(world.client.user.email)
    AssistedRecovery.objects.update(
        requested_at=timezone.now() - timedelta(days=8), expires_at=timezone.now()
    )

    assert browser_for(world.therapist).get(LIST).json()["recoveries"] == []
