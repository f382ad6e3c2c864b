"""``POST /api/me/identity``: someone whose published identity is of version 1 publishes
the version-2 form of the same keys, with an X-Wing key (crypto/SPEC.md, "Version 2: an
X-Wing key for envelopes"). Only that is taken: other keys, another version, a time far
from the server's clock or a malformed identity are refused and change nothing; the first
version-2 form published stays."""

from __future__ import annotations

import time

import pytest

from accounts.models import User
from crypto import IdentityKeyPair, PublicIdentity, b64decode, b64encode
from tests.http.conftest import BrowserFor
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db

PATH = "/api/me/identity"
MINUTE_MS = 60_000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _from_before(person: Person) -> IdentityKeyPair:
    """Publishes the version-1 form of the person's keys, as accounts were made before."""
    old = IdentityKeyPair(person.identity._secret_material())
    User.objects.filter(pk=person.id).update(public_identity=old.public.to_bytes())
    return old


def _published(person: Person) -> PublicIdentity:
    return PublicIdentity.from_bytes(bytes(User.objects.get(pk=person.id).public_identity))


def _body(identity: IdentityKeyPair) -> dict[str, str]:
    return {"public_identity": b64encode(identity.public.to_bytes())}


def test_clara_publishes_the_x_wing_key_of_her_keys_once(
    world: Practice5, browser_for: BrowserFor
) -> None:
    old = _from_before(world.client)
    clara = browser_for(world.client)
    upgraded = old.upgraded(_now_ms())

    reply = clara.post(PATH, _body(upgraded))

    assert reply.status == 200, reply.content
    assert b64decode(reply.json()["public_identity"]) == upgraded.public.to_bytes()
    published = _published(world.client)
    assert published == upgraded.public
    assert published.version == 2
    assert published.fingerprint() == old.public.fingerprint()
    # Another session of hers, a moment later: the first form published stays, and is
    # what it is answered.
    later = old.upgraded(_now_ms() + 1000)
    again = clara.post(PATH, _body(later))
    assert again.status == 200
    assert b64decode(again.json()["public_identity"]) == upgraded.public.to_bytes()
    assert _published(world.client) == upgraded.public


@pytest.mark.parametrize(
    "what",
    [
        "another person's keys",
        "version 1",
        "a time 10 minutes ahead",
        "a time 10 minutes behind",
        "not an identity",
    ],
)
def test_anything_else_is_refused_and_changes_nothing(
    world: Practice5, browser_for: BrowserFor, what: str
) -> None:
    old = _from_before(world.client)
    clara = browser_for(world.client)
    bodies = {
        "another person's keys": _body(IdentityKeyPair.generate()),
        "version 1": _body(old),
        "a time 10 minutes ahead": _body(old.upgraded(_now_ms() + 10 * MINUTE_MS)),
        "a time 10 minutes behind": _body(old.upgraded(_now_ms() - 10 * MINUTE_MS)),
        "not an identity": {"public_identity": b64encode(b"\x02" + bytes(1352))},
    }

    reply = clara.post(PATH, bodies[what])

    assert (reply.status, reply.code) == (400, "bad_request")
    assert _published(world.client) == old.public


def test_theo_cannot_publish_a_form_of_claras_keys(
    world: Practice5, browser_for: BrowserFor
) -> None:
    old = _from_before(world.client)
    theo = browser_for(world.therapist)
    reply = theo.post(PATH, _body(old.upgraded(_now_ms())))
    assert (reply.status, reply.code) == (400, "bad_request")
    assert _published(world.client) == old.public
    assert _published(world.therapist) == world.therapist.identity.public
