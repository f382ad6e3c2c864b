"""Each way a recovery can be refused gets one clear error, and leaves the account, its
sessions and (but for its use) the challenge as they were: a replayed, expired, unknown or
other email's challenge, a proof that does not verify, a malformed body."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

import crypto
from accounts import recovery
from accounts.models import User
from crypto import (
    BundleKind,
    IdentityKeyPair,
    KdfParams,
    RecoveryKey,
    RecoveryMaterial,
    sign_recovery,
    wrap_identity,
)
from tests.http.conftest import Browser, BrowserFor, Reply
from tests.http.recovery import FINISH, begin, finish_body, give_recovery_key, material_for
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def account_row(user_id: int) -> tuple[Any, ...]:
    return tuple(
        User.objects.filter(pk=user_id)
        .values_list(
            "password",
            "kdf_salt",
            "kdf_opslimit",
            "kdf_memlimit",
            "key_bundle",
            "recovery_bundle",
            "public_identity",
        )
        .get()
    )


@pytest.fixture
def clara_key(world: Practice5) -> RecoveryKey:
    return give_recovery_key(world.client)


def prepared(world: Practice5, key: RecoveryKey) -> tuple[Browser, RecoveryMaterial]:
    browser = Browser()
    email = world.client.user.email
    return browser, material_for(begin(browser, email), key, email)


def assert_refused(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply.content
    assert reply.code == code


def test_a_replayed_challenge_is_refused_after_it_was_used(
    world: Practice5, clara_key: RecoveryKey
) -> None:
    browser, material = prepared(world, clara_key)
    assert browser.post(FINISH, finish_body(material)).status == 200
    after_first = account_row(world.client.id)
    # An eavesdropper sends the same bytes again, from elsewhere.
    replayed = Browser().post(FINISH, finish_body(material))

    assert_refused(replayed, 410, "recovery_challenge_invalid")
    assert "already used" in replayed.json()["error"]["message"]
    assert account_row(world.client.id) == after_first


def test_an_expired_challenge_is_refused(
    world: Practice5,
    clara_key: RecoveryKey,
    browser_for: BrowserFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = account_row(world.client.id)
    laptop = browser_for(world.client)
    browser, material = prepared(world, clara_key)
    later = recovery._now() + recovery.challenge_lifetime() + timedelta(seconds=1)
    monkeypatch.setattr(recovery, "_now", lambda: later)

    reply = browser.post(FINISH, finish_body(material))

    assert_refused(reply, 410, "recovery_challenge_invalid")
    assert "expired" in reply.json()["error"]["message"]
    assert account_row(world.client.id) == before
    assert laptop.signed_in_user() == world.client.id
    assert browser.signed_in_user() is None


def test_a_challenge_just_inside_its_lifetime_is_taken(
    world: Practice5, clara_key: RecoveryKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser, material = prepared(world, clara_key)
    almost = recovery._now() + recovery.challenge_lifetime() - timedelta(seconds=5)
    monkeypatch.setattr(recovery, "_now", lambda: almost)

    assert browser.post(FINISH, finish_body(material)).status == 200


def test_a_challenge_never_handed_out_is_refused(world: Practice5, clara_key: RecoveryKey) -> None:
    before = account_row(world.client.id)
    browser, material = prepared(world, clara_key)
    made_up = dataclasses.replace(material.claim, challenge=bytes(32))
    forged = RecoveryMaterial(made_up, sign_recovery(material.identity, made_up), material.identity)

    reply = browser.post(FINISH, finish_body(forged))

    assert_refused(reply, 410, "recovery_challenge_invalid")
    assert "unknown" in reply.json()["error"]["message"]
    assert account_row(world.client.id) == before


def test_a_challenge_asked_for_another_email_is_refused(
    world: Practice5, clara_key: RecoveryKey
) -> None:
    """Oscar's challenge cannot carry a recovery of Clara's account, even signed by her."""
    before = account_row(world.client.id)
    browser = Browser()
    oscars = begin(browser, world.other_client.user.email)
    email = world.client.user.email
    material = material_for(
        {**begin(browser, email), "challenge": oscars["challenge"]}, clara_key, email
    )

    reply = browser.post(FINISH, finish_body(material))

    assert_refused(reply, 410, "recovery_challenge_invalid")
    assert "another email" in reply.json()["error"]["message"]
    assert account_row(world.client.id) == before


def test_the_challenge_messages_differ_so_that_each_says_what_happened(
    world: Practice5, clara_key: RecoveryKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = set()
    browser, material = prepared(world, clara_key)
    assert browser.post(FINISH, finish_body(material)).status == 200
    messages.add(browser.post(FINISH, finish_body(material)).json()["error"]["message"])
    messages.add(
        browser.post(FINISH, finish_body(material, challenge=crypto.b64encode(bytes(32)))).json()[
            "error"
        ]["message"]
    )
    _, fresh = prepared(world, clara_key)
    later = recovery._now() + recovery.challenge_lifetime() + timedelta(seconds=1)
    monkeypatch.setattr(recovery, "_now", lambda: later)
    messages.add(browser.post(FINISH, finish_body(fresh)).json()["error"]["message"])

    assert len(messages) == 3


def by_another_identity(material: RecoveryMaterial) -> dict[str, Any]:
    stranger = IdentityKeyPair.generate()
    return finish_body(material, proof=crypto.b64encode(sign_recovery(stranger, material.claim)))


def with_a_flipped_proof(material: RecoveryMaterial) -> dict[str, Any]:
    proof = bytearray(material.proof)
    proof[7] ^= 1
    return finish_body(material, proof=crypto.b64encode(bytes(proof)))


def with_another_bundle_than_signed(material: RecoveryMaterial) -> dict[str, Any]:
    other = wrap_identity(material.identity, crypto.WrappingKey(bytes(32)), BundleKind.PASSWORD)
    return finish_body(material, key_bundle=crypto.b64encode(other))


def with_another_secret_than_signed(material: RecoveryMaterial) -> dict[str, Any]:
    return finish_body(material, auth_secret=crypto.b64encode(bytes(32)))


def with_other_parameters_than_signed(material: RecoveryMaterial) -> dict[str, Any]:
    return finish_body(material, opslimit=material.claim.params.opslimit + 1)


def with_another_salt_than_signed(material: RecoveryMaterial) -> dict[str, Any]:
    return finish_body(material, salt=crypto.b64encode(bytes(16)))


BAD_PROOFS: dict[str, Callable[[RecoveryMaterial], dict[str, Any]]] = {
    "signed by another identity": by_another_identity,
    "a flipped proof": with_a_flipped_proof,
    "another bundle than signed": with_another_bundle_than_signed,
    "another secret than signed": with_another_secret_than_signed,
    "other parameters than signed": with_other_parameters_than_signed,
    "another salt than signed": with_another_salt_than_signed,
}


@pytest.mark.parametrize("make_body", BAD_PROOFS.values(), ids=BAD_PROOFS.keys())
def test_a_proof_that_does_not_verify_is_refused_and_the_challenge_stays_usable(
    world: Practice5,
    clara_key: RecoveryKey,
    browser_for: BrowserFor,
    make_body: Callable[[RecoveryMaterial], dict[str, Any]],
) -> None:
    before = account_row(world.client.id)
    laptop = browser_for(world.client)
    browser, material = prepared(world, clara_key)

    reply = browser.post(FINISH, make_body(material))

    assert_refused(reply, 403, "recovery_proof_invalid")
    assert account_row(world.client.id) == before
    assert laptop.signed_in_user() == world.client.id
    assert browser.signed_in_user() is None
    # Nothing was used up: the right request still goes through.
    assert browser.post(FINISH, finish_body(material)).status == 200


def test_a_wrong_recovery_key_does_not_open_the_keys_so_nothing_can_be_signed(
    world: Practice5, clara_key: RecoveryKey
) -> None:
    """A key with a right checksum that is not Clara's: her recovery copy does not open,
    and the client has no identity to sign with (a stranger's signature is refused above)."""
    browser = Browser()
    email = world.client.user.email

    with pytest.raises(crypto.DecryptionError):
        material_for(begin(browser, email), RecoveryKey.generate(), email)


def recovery_kind_bundle(material: RecoveryMaterial) -> dict[str, Any]:
    bundle = wrap_identity(material.identity, crypto.WrappingKey(bytes(32)), BundleKind.RECOVERY)
    return finish_body(material, key_bundle=crypto.b64encode(bundle))


MALFORMED: dict[str, Callable[[RecoveryMaterial], dict[str, Any]]] = {
    "a recovery-kind bundle": recovery_kind_bundle,
    "a truncated bundle": lambda m: finish_body(
        m, key_bundle=crypto.b64encode(m.claim.key_bundle[:-1])
    ),
    "opslimit under the minimum": lambda m: finish_body(m, opslimit=1),
    "memlimit under the minimum": lambda m: finish_body(m, memlimit=16 * 1024 * 1024),
    "a salt of 15 bytes": lambda m: finish_body(m, salt=crypto.b64encode(bytes(15))),
    "padded base64": lambda m: finish_body(m, salt=crypto.b64encode(m.claim.salt) + "="),
    "a proof one character short": lambda m: finish_body(m, proof=crypto.b64encode(m.proof)[:-1]),
    "an extra field": lambda m: finish_body(m, recovery_key="ABCD-EFGH"),
    "no proof": lambda m: {k: v for k, v in finish_body(m).items() if k != "proof"},
}


@pytest.mark.parametrize("make_body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_finish_is_refused_as_a_bad_request(
    world: Practice5,
    clara_key: RecoveryKey,
    make_body: Callable[[RecoveryMaterial], dict[str, Any]],
) -> None:
    before = account_row(world.client.id)
    browser, material = prepared(world, clara_key)

    reply = browser.post(FINISH, make_body(material))

    assert_refused(reply, 400, "bad_request")
    assert account_row(world.client.id) == before
    assert browser.post(FINISH, finish_body(material)).status == 200


def test_a_deactivated_account_cannot_be_recovered(
    world: Practice5, clara_key: RecoveryKey
) -> None:
    browser = Browser()
    email = world.client.user.email
    User.objects.filter(pk=world.client.id).deactivate()
    before = account_row(world.client.id)

    with pytest.raises(crypto.DecryptionError):
        material_for(begin(browser, email), clara_key, email)
    # Even with the keys opened elsewhere before, the proof is refused.
    begun = begin(browser, email)
    real = {
        **begun,
        "recovery_bundle": crypto.b64encode(
            bytes(User.objects.get(pk=world.client.id).recovery_bundle)
        ),
        "keys": crypto.b64encode(crypto.identity_keys(world.client.identity.public)),
    }
    reply = browser.post(FINISH, finish_body(material_for(real, clara_key, email)))

    assert_refused(reply, 403, "recovery_proof_invalid")
    assert account_row(world.client.id) == before
    assert not User.objects.get(pk=world.client.id).is_active


def test_parameters_stronger_than_the_defaults_are_taken(
    world: Practice5, clara_key: RecoveryKey
) -> None:
    browser = Browser()
    email = world.client.user.email
    material = material_for(
        begin(browser, email), clara_key, email, params=KdfParams(4, 32 * 1024 * 1024)
    )

    assert browser.post(FINISH, finish_body(material)).status == 200
    assert User.objects.get(pk=world.client.id).kdf_opslimit == 4
