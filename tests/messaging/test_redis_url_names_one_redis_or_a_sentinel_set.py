"""REDIS_URL names one Redis or a Sentinel set (``redis+sentinel://``, messaging/
redis_clients.py): the sentinels, the service, the database and the passwords are read
from it, a malformed one is refused with words, the passwords never show in a ``repr``,
and the settings refuse a malformed one at start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from messaging.redis_clients import (
    CachePool,
    RedisUrlError,
    SentinelSet,
    async_client,
    sentinel_set,
    sync_client,
)


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/2", "unix:///run/redis.sock"]
)
def test_a_url_of_one_redis_is_not_a_sentinel_set(url: str) -> None:
    assert sentinel_set(url) is None


def test_a_sentinel_set_is_read_whole() -> None:
    found = sentinel_set(
        "redis+sentinel://user:s%40cret@10.0.0.1:26380,10.0.0.2,[::1]:26381/confide/3"
        "?sentinel_password=guard"
    )
    assert found == SentinelSet(
        sentinels=(("10.0.0.1", 26380), ("10.0.0.2", 26379), ("::1", 26381)),
        service="confide",
        db=3,
        username="user",
        password="s@cret",
        sentinel_password="guard",
    )
    assert found is not None
    assert found.redis_options() == {"db": 3, "username": "user", "password": "s@cret"}
    assert found.sentinel_options(2) == {"socket_timeout": 2, "password": "guard"}
    shown = repr(found)
    assert "s@cret" not in shown and "guard" not in shown


def test_a_password_alone_and_the_default_database() -> None:
    found = sentinel_set("redis+sentinel://:only-password@sentinel.example/mymaster")
    assert found == SentinelSet(
        (("sentinel.example", 26379),), "mymaster", 0, None, "only-password"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+sentinel:///confide", "at least one sentinel"),
        ("redis+sentinel://127.0.0.1:26379", "/service"),
        ("redis+sentinel://127.0.0.1:26379/", "/service"),
        ("redis+sentinel://127.0.0.1:26379/a/b/c", "/service"),
        ("redis+sentinel://127.0.0.1:26379/confide/zero", "a number"),
        ("redis+sentinel://127.0.0.1:port/confide", "port is a number"),
        ("redis+sentinel://127.0.0.1:70000/confide", "between 1 and 65535"),
        ("redis+sentinel://:26379/confide", "no host"),
        ("redis+sentinel://127.0.0.1/confide?ssl=true", "not ssl"),
    ],
)
def test_a_malformed_sentinel_url_is_refused_with_words(url: str, says: str) -> None:
    with pytest.raises(RedisUrlError, match=says):
        sentinel_set(url)


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://:pa/ss-secret@h1/confide",
        "redis+sentinel://:pa?ss-secret@h1/confide",
        "redis+sentinel://:pa#ss-secret@h1/confide",
        "redis+sentinel://[::1/confide?sentinel_password=ss-secret",
        "redis+sentinel://u:ss-secret@h1:²/confide",
    ],
)
def test_a_url_that_does_not_read_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(RedisUrlError) as refused:
        sentinel_set(url)
    assert "secret" not in str(refused.value)
    assert "percent-encode" in str(refused.value)


def test_a_sentinel_password_means_its_own_characters() -> None:
    found = sentinel_set("redis+sentinel://h/confide?sentinel_password=a+b%2Bc%26")
    assert found is not None
    assert found.sentinel_password == "a+b+c&"


def test_the_channel_layer_names_its_topics_by_the_sets_database() -> None:
    from messaging.layer import FanoutChannelLayer

    first = FanoutChannelLayer(url="redis+sentinel://h/confide/3", prefix="confide")
    second = FanoutChannelLayer(url="redis+sentinel://h/confide/4", prefix="confide")
    assert (first.prefix, second.prefix) == ("confide.3", "confide.4")


def test_clients_for_a_sentinel_set_ask_for_its_primary() -> None:
    url = "redis+sentinel://127.0.0.1:26390,127.0.0.1:26391/confide/2"
    for client in (sync_client(url, socket_timeout=3), async_client(url, socket_timeout=3)):
        pool = client.connection_pool
        assert pool.service_name == "confide"
        assert pool.is_master
        assert pool.connection_kwargs["db"] == 2
        assert [
            s.connection_pool.connection_kwargs["port"] for s in pool.sentinel_manager.sentinels
        ] == [26390, 26391]
    pool = CachePool.from_url("redis+sentinel:///confide", sentinel_url=url, socket_timeout=3)
    assert pool.service_name == "confide"
    with pytest.raises(RedisUrlError):
        CachePool.from_url("x", sentinel_url="redis://127.0.0.1:6379/0")


def test_clients_for_one_redis_are_plain() -> None:
    client = async_client("redis://127.0.0.1:6399/4", socket_timeout=3, max_connections=8)
    assert client.connection_pool.max_connections == 8
    assert client.connection_pool.connection_kwargs["db"] == 4


def test_the_settings_refuse_a_malformed_sentinel_url_at_start() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/nothing",
        "REDIS_URL": "redis+sentinel://127.0.0.1:26379",
        "SECRET_KEY": "an-unguessable-test-key-" + "0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "REDIS_URL: A redis+sentinel:// URL ends with /service" in result.stderr
