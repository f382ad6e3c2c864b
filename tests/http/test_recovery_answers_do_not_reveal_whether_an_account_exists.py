"""``recover/begin`` answers an email with no account as it answers a real one: the same
shape, a valid public identity and a well-formed recovery bundle, stable for that email;
what is learnt from trying it is only that the recovery key does not open it, as with a
wrong key for a real account. ``finish`` then refuses both alike."""

from __future__ import annotations

from typing import Any

import pytest

import crypto
from accounts import recovery
from crypto import BundleKind, IdentityKeyPair, RecoveryKey, parse_bundle
from tests.http.conftest import Browser
from tests.http.recovery import FINISH, begin, finish_body, give_recovery_key, material_for
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

NOBODY = "nobody@practice.invalid"


def shape(answer: dict[str, Any]) -> dict[str, Any]:
    """What the answer looks like without its values."""
    return {
        "keys": sorted(answer),
        "kdf": answer["kdf"],
        "challenge": len(crypto.b64decode(answer["challenge"])),
        "identity_keys": len(crypto.b64decode(answer["keys"])),
        "recovery_bundle": len(crypto.b64decode(answer["recovery_bundle"])),
    }


def test_an_unknown_email_gets_an_answer_of_the_same_shape(world: Practice5) -> None:
    real = begin(Browser(), world.client.user.email)
    made_up = begin(Browser(), NOBODY)

    assert shape(made_up) == shape(real)
    # The keys only (64 bytes), never a whole identity, whose version and time would tell
    # a made-up account from one made or signed in to since identities held X-Wing keys.
    assert len(crypto.b64decode(real["keys"])) == 64
    assert crypto.b64decode(real["keys"]) == crypto.identity_keys(world.client.identity.public)
    assert parse_bundle(crypto.b64decode(made_up["recovery_bundle"])) == BundleKind.RECOVERY


def test_the_stand_in_is_stable_for_an_email_as_a_real_account_is(world: Practice5) -> None:
    for email in (world.client.user.email, NOBODY):
        first, second = begin(Browser(), email), begin(Browser(), email)
        assert first["keys"] == second["keys"]
        assert first["recovery_bundle"] == second["recovery_bundle"]
        assert first["challenge"] != second["challenge"]
    others = begin(Browser(), "someone.else@practice.invalid")
    assert others["keys"] != begin(Browser(), NOBODY)["keys"]


def test_a_recovery_key_opens_neither_a_stand_in_nor_another_account(world: Practice5) -> None:
    clara_key = give_recovery_key(world.client)
    for email in (NOBODY, world.other_client.user.email):
        with pytest.raises(crypto.DecryptionError):
            material_for(begin(Browser(), email), clara_key, email)


def test_finish_refuses_an_unknown_email_as_it_refuses_a_wrong_proof(world: Practice5) -> None:
    """Someone who signs with an identity of their own gets the same answer, whether the
    email has an account or not."""
    stranger = IdentityKeyPair.generate()
    key = RecoveryKey.generate()
    bundle = crypto.wrap_identity(stranger, key.wrapping_key(), BundleKind.RECOVERY)
    replies = []
    for email in (NOBODY, world.client.user.email):
        browser = Browser()
        begun = {
            **begin(browser, email),
            "keys": crypto.b64encode(crypto.identity_keys(stranger.public)),
            "recovery_bundle": crypto.b64encode(bundle),
        }
        replies.append(browser.post(FINISH, finish_body(material_for(begun, key, email))))

    unknown, known = replies
    assert unknown.status == known.status == 403
    assert unknown.json() == known.json()
    assert unknown.code == "recovery_proof_invalid"


def test_the_same_work_is_done_for_an_email_with_or_without_an_account(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-ins (an identity made from a seed, the most costly part) are made for a
    real account too, so the answer's time does not tell the two apart."""
    made: list[bytes] = []
    real_stand_in = recovery._stand_in

    def counting(email: str, purpose: bytes, size: int) -> bytes:
        made.append(purpose)
        return real_stand_in(email, purpose, size)

    monkeypatch.setattr(recovery, "_stand_in", counting)
    browser = Browser()
    begin(browser, world.client.user.email)
    for_account = list(made)
    made.clear()
    begin(browser, NOBODY)

    assert for_account == made == [b"identity", b"bundle"]
