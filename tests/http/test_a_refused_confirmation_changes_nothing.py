"""Nothing of an assisted recovery happens without the right confirmation: envelopes
wrapped to any identity but the pending one, signed by anyone but the confirming therapist,
for an epoch the request does not cover, given twice, or with an epoch missing, are refused
(``bad_envelopes``) and change nothing, not even the envelopes kept so far; a request that
expired, was declined or replaced cannot be confirmed (``recovery_invalid``); only a
therapist in a conversation with the client can see or decide it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

import crypto
from accounts.models import AssistedRecovery, RecoveryEnvelope
from crypto import IdentityKeyPair
from tests.http.assisted import (
    Asked,
    add_epoch,
    ask,
    confirm,
    decline,
    pending_of,
    rewrap,
    stage,
    stored_account,
    stored_envelopes,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5, now_ms

pytestmark = pytest.mark.django_db

Envelopes = Callable[[Practice5, Asked], list[str]]


def to_another_identity(world: Practice5, asked: Asked) -> list[str]:
    return rewrap(world.therapist, world.chat.id, IdentityKeyPair.generate().public)


def to_claras_old_identity(world: Practice5, asked: Asked) -> list[str]:
    return rewrap(world.therapist, world.chat.id, world.client.identity.public)


def signed_by_olive(world: Practice5, asked: Asked) -> list[str]:
    return rewrap(
        world.therapist, world.chat.id, asked.public, wrapper=world.other_therapist.identity
    )


def signed_by_the_new_identity(world: Practice5, asked: Asked) -> list[str]:
    return rewrap(world.therapist, world.chat.id, asked.public, wrapper=asked.identity)


def missing_an_epoch(world: Practice5, asked: Asked) -> list[str]:
    return rewrap(world.therapist, world.chat.id, asked.public, epochs=[0])


def one_epoch_twice(world: Practice5, asked: Asked) -> list[str]:
    envelopes = rewrap(world.therapist, world.chat.id, asked.public)
    return [*envelopes, envelopes[0]]


def for_an_epoch_that_does_not_exist(world: Practice5, asked: Asked) -> list[str]:
    key = crypto.ConversationKey.generate()
    extra = crypto.wrap_conversation_key(
        key, world.chat.id, 7, asked.public, world.therapist.identity, now_ms()
    )
    return [*rewrap(world.therapist, world.chat.id, asked.public), crypto.b64encode(extra)]


def for_olives_conversation(world: Practice5, asked: Asked) -> list[str]:
    key = crypto.ConversationKey.generate()
    other = crypto.wrap_conversation_key(
        key, world.other_chat.id, 0, asked.public, world.therapist.identity, now_ms()
    )
    return [*rewrap(world.therapist, world.chat.id, asked.public), crypto.b64encode(other)]


def a_flipped_byte(world: Practice5, asked: Asked) -> list[str]:
    envelopes = rewrap(world.therapist, world.chat.id, asked.public)
    raw = bytearray(crypto.b64decode(envelopes[1]))
    raw[150] ^= 1
    return [envelopes[0], crypto.b64encode(bytes(raw))]


REFUSED = {
    "wrapped to another identity": to_another_identity,
    "wrapped to Clara's old identity": to_claras_old_identity,
    "signed by Olive": signed_by_olive,
    "signed by the new identity itself": signed_by_the_new_identity,
    "missing an epoch": missing_an_epoch,
    "one epoch twice": one_epoch_twice,
    "for an epoch that does not exist": for_an_epoch_that_does_not_exist,
    "for Olive's conversation": for_olives_conversation,
    "with a flipped byte": a_flipped_byte,
}


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_wrong_envelopes_are_refused_and_change_nothing(
    world: Practice5, browser_for: BrowserFor, make: Envelopes
) -> None:
    clara, theo = world.client, world.therapist
    add_epoch(world.chat, 1, theo)
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    # One right envelope kept from an earlier request stays as it was.
    kept = rewrap(theo, world.chat.id, asked.public, epochs=[0])
    assert stage(browser_for(theo), recovery.pk, kept).status == 200
    account, envelopes = stored_account(clara.id), stored_envelopes(clara.id)
    staged = list(RecoveryEnvelope.objects.values_list("epoch", "envelope"))

    reply = confirm(browser_for(theo), recovery.pk, make(world, asked), by=theo)

    assert (reply.status, reply.code) == (400, "bad_envelopes"), reply.content
    assert stored_account(clara.id) == account
    assert stored_envelopes(clara.id) == envelopes
    assert list(RecoveryEnvelope.objects.values_list("epoch", "envelope")) == staged
    assert pending_of(clara).pk == recovery.pk


def test_staging_wrong_envelopes_is_refused_too(world: Practice5, browser_for: BrowserFor) -> None:
    asked = ask(world.client.user.email)
    recovery = pending_of(world.client)

    reply = stage(browser_for(world.therapist), recovery.pk, to_another_identity(world, asked))

    assert (reply.status, reply.code) == (400, "bad_envelopes")
    assert not RecoveryEnvelope.objects.exists()


def expire(recovery: AssistedRecovery) -> None:
    AssistedRecovery.objects.filter(pk=recovery.pk).update(
        requested_at=timezone.now() - timedelta(days=8), expires_at=timezone.now()
    )


def decline_it(world: Practice5, browser_for: BrowserFor, recovery: AssistedRecovery) -> None:
    assert decline(browser_for(world.therapist), recovery.pk).status == 200


@pytest.mark.parametrize("ending", ["expired", "declined", "replaced"])
def test_a_request_that_is_no_longer_pending_cannot_be_confirmed(
    world: Practice5, browser_for: BrowserFor, ending: str
) -> None:
    clara, theo = world.client, world.therapist
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    if ending == "expired":
        expire(recovery)
    elif ending == "declined":
        decline_it(world, browser_for, recovery)
    else:
        ask(clara.user.email)
    account, envelopes = stored_account(clara.id), stored_envelopes(clara.id)

    reply = confirm(
        browser_for(theo), recovery.pk, rewrap(theo, world.chat.id, asked.public), by=theo
    )
    staged = stage(browser_for(theo), recovery.pk, rewrap(theo, world.chat.id, asked.public))

    assert (reply.status, reply.code) == (410, "recovery_invalid")
    assert ending.rstrip("d") in reply.json()["error"]["message"]
    assert (staged.status, staged.code) == (410, "recovery_invalid")
    assert stored_account(clara.id) == account
    assert stored_envelopes(clara.id) == envelopes


@pytest.mark.parametrize("who", ["other_therapist", "other_client", "client", "admin"])
def test_only_a_therapist_of_the_client_sees_or_decides_the_request(
    world: Practice5, browser_for: BrowserFor, who: str
) -> None:
    clara = world.client
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    person = getattr(world, who)
    browser = browser_for(person)
    account = stored_account(clara.id)
    envelopes = rewrap(world.therapist, world.chat.id, asked.public)

    replies = [
        browser.get("/api/recoveries"),
        confirm(browser, recovery.pk, envelopes, by=person),
        stage(browser, recovery.pk, envelopes),
        decline(browser, recovery.pk),
    ]

    if who == "other_therapist":
        assert replies[0].json() == {"recoveries": []}
        assert [(r.status, r.code) for r in replies[1:]] == [(404, "not_found")] * 3
    else:
        assert [(r.status, r.code) for r in replies] == [(403, "forbidden")] * 4
    assert stored_account(clara.id) == account
    assert pending_of(clara).pk == recovery.pk
