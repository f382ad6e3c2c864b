"""``/api/me/pins``: each person's pin record (crypto/SPEC.md, "Pins") is kept for them
alone, in place of the record it follows; a record written on one that is no longer the
newest, sealed for another identity, malformed or with a counter that does not follow is
refused and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import PinRecord
from crypto import Pin, b64decode, b64encode, open_pins, seal_pins
from tests.http.conftest import Browser, BrowserFor
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db

PATH = "/api/me/pins"


def _record(person: Person, counter: int, *pins: Person, verified: bool = False) -> str:
    return b64encode(
        seal_pins(
            person.identity,
            counter,
            [Pin(p.id, p.identity.public.fingerprint(), verified, 1_796_479_200) for p in pins],
        )
    )


def test_clara_keeps_her_pins_and_reads_them_back(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    assert clara.get(PATH).json() == {"record": None, "counter": 0}

    first = _record(world.client, 1, world.therapist)
    assert clara.put_json(PATH, {"record": first, "previous": 0}).json() == {
        "record": first,
        "counter": 1,
    }
    second = _record(world.client, 2, world.therapist, verified=True)
    assert clara.put_json(PATH, {"record": second, "previous": 1}).json()["counter"] == 2

    kept = clara.get(PATH).json()
    assert kept == {"record": second, "counter": 2}
    opened = open_pins(b64decode(kept["record"]), world.client.identity)
    assert [(pin.user_id, pin.verified) for pin in opened.pins] == [(world.therapist.id, True)]
    # Nobody else's: Theo has none, and reads none of hers.
    assert browser_for(world.therapist).get(PATH).json() == {"record": None, "counter": 0}


def test_a_record_on_one_no_longer_the_newest_is_refused(
    world: Practice5, browser_for: BrowserFor
) -> None:
    """Two sessions of Clara both read counter 1; the second to write is told to merge."""
    phone, laptop = browser_for(world.client), browser_for(world.client)
    assert phone.put_json(PATH, {"record": _record(world.client, 1), "previous": 0}).status == 200
    from_phone = _record(world.client, 2, world.therapist)
    assert phone.put_json(PATH, {"record": from_phone, "previous": 1}).status == 200

    from_laptop = _record(world.client, 2, world.other_therapist)
    refused = laptop.put_json(PATH, {"record": from_laptop, "previous": 1})

    assert (refused.status, refused.code) == (409, "pins_changed")
    assert laptop.get(PATH).json() == {"record": from_phone, "counter": 2}


def _bad_bodies(world: Practice5) -> dict[str, Any]:
    """Bodies that must be refused while Clara's record with counter 1 is kept."""
    return {
        "another identity's": {"record": _record(world.therapist, 2), "previous": 1},
        "a counter that skips": {"record": _record(world.client, 3), "previous": 1},
        "a counter that repeats": {"record": _record(world.client, 1), "previous": 1},
        "not a record": {"record": b64encode(b"\x01" + bytes(90)), "previous": 1},
        "not base64url": {"record": "a+b/", "previous": 1},
        "too long": {"record": "A" * 60_001, "previous": 1},
        "no previous": {"record": _record(world.client, 2)},
        "a negative previous": {"record": _record(world.client, 2), "previous": -1},
    }


BAD = [
    "another identity's",
    "a counter that skips",
    "a counter that repeats",
    "not a record",
    "not base64url",
    "too long",
    "no previous",
    "a negative previous",
]


@pytest.mark.parametrize("what", BAD)
def test_a_bad_record_is_refused_and_changes_nothing(
    world: Practice5, browser_for: BrowserFor, what: str
) -> None:
    clara = browser_for(world.client)
    kept = _record(world.client, 1, world.therapist)
    assert clara.put_json(PATH, {"record": kept, "previous": 0}).status == 200

    reply = clara.put_json(PATH, _bad_bodies(world)[what])

    assert (reply.status, reply.code) == (400, "bad_request"), what
    assert clara.get(PATH).json() == {"record": kept, "counter": 1}
    assert PinRecord.objects.get(user=world.client.user).counter == 1


def test_only_a_signed_in_person_has_pins(world: Practice5, browser_for: BrowserFor) -> None:
    stranger = Browser()
    assert stranger.get(PATH).status == 401
    reply = stranger.put_json(PATH, {"record": _record(world.client, 1), "previous": 0})
    assert reply.status in (401, 403)
    assert not PinRecord.objects.exists()
