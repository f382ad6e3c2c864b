"""Recovery requests are counted per network (``CONFIDE_RECOVERY_*``: an IPv4 address or an
IPv6 /64), never per email: a ``begin`` keeps nothing on the server, so a stranger who
knows an email can neither fill the cache nor stop its owner from recovering. A refused
request says how long to wait."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from tests.http.conftest import Browser
from tests.http.recovery import BEGIN, FINISH, begin, finish_body, give_recovery_key, material_for
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


@override_settings(CONFIDE_RECOVERY_ATTEMPTS=3)
def test_an_address_is_refused_after_its_attempts_whatever_the_email(world: Practice5) -> None:
    browser = Browser(REMOTE_ADDR="198.51.100.1")
    for number in range(3):
        assert browser.post(BEGIN, {"email": f"n{number}@practice.invalid"}).status == 200

    refused = browser.post(BEGIN, {"email": world.client.user.email})

    assert refused.status == 429
    assert refused.code == "rate_limited"
    assert refused.json()["error"]["retry_after_s"] > 0
    assert Browser(REMOTE_ADDR="198.51.100.2").post(BEGIN, {"email": "x@y.invalid"}).status == 200


@override_settings(CONFIDE_RECOVERY_ATTEMPTS=2)
def test_strangers_asking_for_an_email_do_not_stop_its_owner(world: Practice5) -> None:
    email = world.client.user.email
    for number in range(40):
        stranger = Browser(REMOTE_ADDR=f"198.51.100.{number + 1}")
        assert stranger.post(BEGIN, {"email": email}).status == 200

    key = give_recovery_key(world.client)
    owner = Browser(REMOTE_ADDR="203.0.113.7")
    material = material_for(begin(owner, email), key, email)

    assert owner.post(FINISH, finish_body(material)).status == 200


@override_settings(CONFIDE_RECOVERY_ATTEMPTS=2)
def test_the_addresses_of_one_ipv6_network_count_together(world: Practice5) -> None:
    for last in ("1", "2"):
        assert (
            Browser(REMOTE_ADDR=f"2001:db8:1:2::{last}")
            .post(BEGIN, {"email": "a@b.invalid"})
            .status
            == 200
        )

    rotated = Browser(REMOTE_ADDR="2001:db8:1:2:ffff::9").post(BEGIN, {"email": "a@b.invalid"})

    assert rotated.status == 429
    assert (
        Browser(REMOTE_ADDR="2001:db8:1:3::1").post(BEGIN, {"email": "a@b.invalid"}).status == 200
    )


def cache_keys() -> set[str]:
    """Every key in the cache, in-memory (the embedded default) or Redis (in CI: this test
    process's own, under its prefix; other pytest-xdist workers share the database)."""
    store = caches["default"]
    if isinstance(store, RedisCache):
        client = store._cache.get_client()
        keys = client.keys(f"{store.key_prefix}:*")
        return {key.decode() if isinstance(key, bytes) else key for key in keys}
    if isinstance(store, LocMemCache):
        return set(store._cache)  # type: ignore[attr-defined]  # its own dict
    raise AssertionError(f"no way to list the keys of {type(store).__name__}")


def test_a_begin_keeps_nothing_in_the_cache_but_its_counter(world: Practice5) -> None:
    before = cache_keys()
    browser = Browser(REMOTE_ADDR="198.51.100.77")
    for number in range(5):
        assert browser.post(BEGIN, {"email": f"n{number}@practice.invalid"}).status == 200

    added = cache_keys() - before

    assert len(added) == 1
    assert all(
        world.client.user.email not in str(key) and "198.51.100" not in str(key) for key in added
    )


@override_settings(CONFIDE_RECOVERY_ATTEMPTS=2)
def test_failed_finishes_are_counted_and_a_successful_one_is_not(world: Practice5) -> None:
    key = give_recovery_key(world.client)
    email = world.client.user.email
    helper = Browser(REMOTE_ADDR="203.0.113.7")
    browser = Browser(REMOTE_ADDR="198.51.100.1")
    material = material_for(begin(helper, email), key, email)
    # A success does not count ...
    assert browser.post(FINISH, finish_body(material)).status == 200
    # ... two failures do, and the third attempt is refused before it is looked at.
    for _ in range(2):
        assert browser.post(FINISH, finish_body(material)).status == 410
    fresh = material_for(begin(helper, email), key, email)

    refused = browser.post(FINISH, finish_body(fresh))

    assert refused.status == 429
    assert refused.code == "rate_limited"
    assert Browser(REMOTE_ADDR="198.51.100.2").post(FINISH, finish_body(fresh)).status == 200
