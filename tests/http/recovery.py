"""What a client does to recover an account with its recovery key, as HTTP steps
(crypto/SPEC.md, "Recovery"), for the tests of ``/api/auth/recover/*``."""

from __future__ import annotations

from typing import Any

import crypto
from accounts.models import User
from crypto import (
    BundleKind,
    KdfParams,
    RecoveryKey,
    RecoveryMaterial,
    make_recovery_material,
    wrap_identity,
)
from tests.http.conftest import Browser, Reply
from tests.personas import TEST_KDF, Person

BEGIN = "/api/auth/recover/begin"
FINISH = "/api/auth/recover/finish"
NEW_PASSWORD = "a new password, long enough"


def give_recovery_key(person: Person) -> RecoveryKey:
    """A recovery key for a persona: its recovery bundle is rewrapped under it (the
    personas are made with bundles under random keys)."""
    key = RecoveryKey.generate()
    bundle = wrap_identity(person.identity, key.wrapping_key(), BundleKind.RECOVERY)
    User.objects.filter(pk=person.id).update(recovery_bundle=bundle)
    return key


def begin(browser: Browser, email: str) -> dict[str, Any]:
    reply = browser.post(BEGIN, {"email": email})
    assert reply.status == 200, reply.content
    return reply.json()


def material_for(
    begun: dict[str, Any],
    key: RecoveryKey,
    email: str,
    password: str = NEW_PASSWORD,
    params: KdfParams = TEST_KDF,
) -> RecoveryMaterial:
    """What the client makes from ``begin``'s answer (small Argon2id parameters, which the
    server accepts, so that the tests stay fast)."""
    return make_recovery_material(
        key,
        crypto.b64decode(begun["recovery_bundle"]),
        crypto.b64decode(begun["keys"]),
        password,
        challenge=crypto.b64decode(begun["challenge"]),
        email=email,
        params=params,
    )


def finish_body(material: RecoveryMaterial, **changes: Any) -> dict[str, Any]:
    """The body of ``finish`` for ``material``, right unless ``changes`` say not."""
    claim = material.claim
    body: dict[str, Any] = {
        "email": claim.email,
        "challenge": crypto.b64encode(claim.challenge),
        "salt": crypto.b64encode(claim.salt),
        "opslimit": claim.params.opslimit,
        "memlimit": claim.params.memlimit,
        "auth_secret": crypto.b64encode(claim.auth_secret),
        "key_bundle": crypto.b64encode(claim.key_bundle),
        "proof": crypto.b64encode(material.proof),
    }
    body.update(changes)
    return body


def recover(
    browser: Browser, email: str, key: RecoveryKey, password: str = NEW_PASSWORD
) -> tuple[Reply, RecoveryMaterial]:
    """The whole flow in ``browser``: begin, make the material, finish."""
    material = material_for(begin(browser, email), key, email, password)
    return browser.post(FINISH, finish_body(material)), material
