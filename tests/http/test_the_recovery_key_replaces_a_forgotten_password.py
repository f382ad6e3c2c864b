"""Forgot password: the recovery key opens the recovery copy of the keys, the browser wraps
them under a new password and proves it with the identity's signature; every other session
and socket of the account ends, and the identity stays, so peers see no key change."""

from __future__ import annotations

from typing import Any

import pytest

import crypto
from accounts.models import User
from confide_client.keys import open_key_bundle
from crypto import KdfParams, PublicIdentity
from tests.http.conftest import Browser, BrowserFor
from tests.http.recovery import NEW_PASSWORD, give_recovery_key, recover
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def stored(user_id: int) -> dict[str, Any]:
    user = User.objects.get(pk=user_id)
    return {
        "password": user.password,
        "kdf_salt": bytes(user.kdf_salt),
        "kdf_opslimit": user.kdf_opslimit,
        "kdf_memlimit": user.kdf_memlimit,
        "key_bundle": bytes(user.key_bundle),
        "recovery_bundle": bytes(user.recovery_bundle),
        "public_identity": bytes(user.public_identity),
        "keys_changed_at": user.keys_changed_at,
    }


def sign_in_with_password(browser: Browser, email: str, password: str) -> dict[str, Any]:
    """What the sign-in page does: parameters, Argon2id, the secret; the answer's user."""
    params = browser.post("/api/auth/params", {"email": email}).json()
    keys = crypto.derive_password_keys(
        password,
        crypto.b64decode(params["salt"]),
        KdfParams(params["opslimit"], params["memlimit"]),
    )
    reply = browser.post(
        "/api/auth/signin", {"email": email, "auth_secret": keys.auth_secret_b64()}
    )
    assert reply.status in (200, 401), reply.content
    return reply.json()


def test_clara_recovers_her_account_in_a_new_browser_and_keeps_her_identity(
    world: Practice5,
) -> None:
    clara = world.client
    key = give_recovery_key(clara)
    before = stored(clara.id)
    new_browser = Browser()

    reply, material = recover(new_browser, clara.user.email, key)

    assert reply.status == 200, reply.content
    me = reply.json()["user"]
    assert me["id"] == clara.id
    assert new_browser.signed_in_user() == clara.id
    after = stored(clara.id)
    # The identity, the recovery copy and the moment the keys last changed are as they were.
    for kept in ("public_identity", "recovery_bundle", "keys_changed_at"):
        assert after[kept] == before[kept], kept
    for replaced in ("password", "kdf_salt", "key_bundle"):
        assert after[replaced] != before[replaced], replaced
    assert after["kdf_salt"] == material.claim.salt
    assert (after["kdf_opslimit"], after["kdf_memlimit"]) == (
        material.claim.params.opslimit,
        material.claim.params.memlimit,
    )
    # The answer carries the new bundle, which the new password opens to the same identity.
    public = PublicIdentity.from_bytes(crypto.b64decode(me["public_identity"]))
    assert public == clara.identity.public
    opened = open_key_bundle(
        NEW_PASSWORD,
        crypto.b64decode(me["kdf"]["salt"]),
        KdfParams(me["kdf"]["opslimit"], me["kdf"]["memlimit"]),
        crypto.b64decode(me["key_bundle"]),
        public,
    )
    assert opened.public == clara.identity.public


def test_the_new_password_signs_in_and_the_recovery_key_stays_valid(
    world: Practice5,
) -> None:
    clara = world.client
    key = give_recovery_key(clara)
    first, _ = recover(Browser(), clara.user.email, key)
    assert first.status == 200, first.content

    signed_in = sign_in_with_password(Browser(), clara.user.email, NEW_PASSWORD)
    assert signed_in["user"]["id"] == clara.id

    # The same recovery key works again, for another new password.
    again, _ = recover(Browser(), clara.user.email, key, "yet another password")
    assert again.status == 200, again.content
    assert (
        sign_in_with_password(Browser(), clara.user.email, "yet another password")["user"]["id"]
        == clara.id
    )
    refused = sign_in_with_password(Browser(), clara.user.email, NEW_PASSWORD)
    assert refused["error"]["code"] == "unauthenticated"


def test_every_other_session_of_the_account_ends_and_others_are_untouched(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = world.client
    key = give_recovery_key(clara)
    laptop = browser_for(clara)
    phone = browser_for(clara)
    theo = browser_for(world.therapist)
    assert laptop.signed_in_user() == phone.signed_in_user() == clara.id

    reply, _ = recover(Browser(), clara.user.email, key)

    assert reply.status == 200, reply.content
    assert laptop.get("/api/me").status == 401
    assert phone.get("/api/me").status == 401
    assert theo.signed_in_user() == world.therapist.id


def test_recovering_in_a_browser_signed_in_as_someone_else_signs_in_as_the_recovered_account(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = world.client
    key = give_recovery_key(clara)
    shared = browser_for(world.other_client)

    reply, _ = recover(shared, clara.user.email, key)

    assert reply.status == 200, reply.content
    assert shared.signed_in_user() == clara.id
    assert browser_for(world.other_client).signed_in_user() == world.other_client.id


def test_the_email_may_be_typed_in_any_case(world: Practice5) -> None:
    clara = world.client
    key = give_recovery_key(clara)

    reply, _ = recover(Browser(), clara.user.email.upper(), key)

    assert reply.status == 200, reply.content
    assert reply.json()["user"]["id"] == clara.id
