"""A confirmation carries the identity succession the therapist signed (crypto/SPEC.md,
"Identity succession"): the client's current identity replaced by the request's new one,
signed by the confirming therapist, for this client. Without one, or with one signed by
anyone else, naming another identity, client or therapist, or dated far from now, the
confirmation is refused (``bad_request``) and nothing changes: not the account, not its
envelopes, not the envelopes kept so far, and the request stays pending. The succession
kept is exactly the one the therapist sent, and it is what the client's peers are served."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

import crypto
from accounts.models import AssistedRecovery, RecoveryEnvelope
from crypto import IdentityKeyPair, PublicIdentity
from tests.http.assisted import (
    NEW_PASSWORD,
    Asked,
    add_epoch,
    ask,
    confirm,
    pending_of,
    rewrap,
    sign_in_with_password,
    stage,
    stored_account,
    stored_envelopes,
)
from tests.http.conftest import Browser, BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

Make = Callable[[Practice5, Asked], Any]


def signed(
    world: Practice5,
    asked: Asked,
    *,
    signer: IdentityKeyPair | None = None,
    user_id: int | None = None,
    confirmer_id: int | None = None,
    previous: PublicIdentity | None = None,
    new: PublicIdentity | None = None,
    confirmed_at: int | None = None,
) -> str:
    """A succession as Theo's browser makes it, but for what is changed."""
    return crypto.b64encode(
        crypto.sign_succession(
            signer or world.therapist.identity,
            user_id=world.client.id if user_id is None else user_id,
            confirmer_id=world.therapist.id if confirmer_id is None else confirmer_id,
            confirmed_at=int(time.time()) if confirmed_at is None else confirmed_at,
            previous_identity=previous or world.client.identity.public,
            new_identity=new or asked.public,
        )
    )


REFUSED: dict[str, Make] = {
    "none at all": lambda world, asked: None,
    "signed by Olive": lambda world, asked: signed(
        world, asked, signer=world.other_therapist.identity
    ),
    "signed by Olive as herself": lambda world, asked: signed(
        world, asked, signer=world.other_therapist.identity, confirmer_id=world.other_therapist.id
    ),
    "signed by the new identity itself": lambda world, asked: signed(
        world, asked, signer=asked.identity
    ),
    "naming a previous identity Clara never had": lambda world, asked: signed(
        world, asked, previous=IdentityKeyPair.generate().public
    ),
    "naming another new identity": lambda world, asked: signed(
        world, asked, new=IdentityKeyPair.generate().public
    ),
    "for Oscar": lambda world, asked: signed(world, asked, user_id=world.other_client.id),
    "naming Olive as the confirmer": lambda world, asked: signed(
        world, asked, confirmer_id=world.other_therapist.id
    ),
    "dated two days ago": lambda world, asked: signed(
        world, asked, confirmed_at=int(time.time()) - 2 * 86_400
    ),
    "with a flipped byte": lambda world, asked: crypto.b64encode(
        bytes(b ^ (i == 30) for i, b in enumerate(crypto.b64decode(signed(world, asked))))
    ),
    "cut short": lambda world, asked: signed(world, asked)[:-4],
    "not base64url": lambda world, asked: "!" * 463,
}


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_a_confirmation_without_theos_succession_is_refused_and_changes_nothing(
    world: Practice5, browser_for: BrowserFor, make: Make
) -> None:
    clara, theo = world.client, world.therapist
    add_epoch(world.chat, 1, theo)
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    kept = rewrap(theo, world.chat.id, asked.public, epochs=[0])
    assert stage(browser_for(theo), recovery.pk, kept).status == 200
    account, envelopes = stored_account(clara.id), stored_envelopes(clara.id)
    staged = list(RecoveryEnvelope.objects.values_list("epoch", "envelope"))
    succession = make(world, asked)

    reply = confirm(
        browser_for(theo),
        recovery.pk,
        rewrap(theo, world.chat.id, asked.public, epochs=[1]),
        signed=succession,
    )

    assert (reply.status, reply.code) == (400, "bad_request"), reply.content
    assert "succession" in reply.json()["error"]["message"]
    assert stored_account(clara.id) == account
    assert stored_envelopes(clara.id) == envelopes
    assert list(RecoveryEnvelope.objects.values_list("epoch", "envelope")) == staged
    still = pending_of(clara)
    assert still.pk == recovery.pk
    assert still.succession is None


def test_the_succession_theo_signed_is_kept_and_served_as_it_is(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo = world.client, world.therapist
    asked = ask(clara.user.email)
    recovery = pending_of(clara)
    succession = signed(world, asked)

    reply = confirm(
        browser_for(theo), recovery.pk, rewrap(theo, world.chat.id, asked.public), signed=succession
    )

    assert reply.status == 200, reply.content
    kept = AssistedRecovery.objects.get(pk=recovery.pk)
    assert crypto.b64encode(bytes(kept.succession or b"")) == succession
    claras_new_browser = Browser()
    assert sign_in_with_password(claras_new_browser, clara.user.email, NEW_PASSWORD).status == 200
    for browser in (browser_for(theo), claras_new_browser):
        members = browser.get(f"/api/conversations/{world.chat.id}").json()["conversation"][
            "members"
        ]
        change = next(m for m in members if m["id"] == clara.id)["identity_changed"]
        assert change["successions"] == [succession]
        assert "previous" not in change
