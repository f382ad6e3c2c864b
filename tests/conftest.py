"""Fixtures shared by the whole suite: the services and the fixed personas."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from asgiref.sync import sync_to_async

if TYPE_CHECKING:
    from tests.personas import Practice5


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_service(variable: str, what: str) -> str:
    """The service's URL; outside CI a missing one skips, in CI it fails loudly."""
    url = os.environ.get(variable, "")
    if url:
        return url
    _unavailable(f"{variable} is not set: start {what} and set {variable} to run this test")


def require_programs(missing: list[str]) -> None:
    """Nothing when ``missing`` is empty; otherwise outside CI a skip, in CI a loud failure."""
    if missing:
        _unavailable(f"Install {', '.join(missing)} to run this test")


def require_postgresql(why: str) -> None:
    """Nothing on PostgreSQL; otherwise outside CI a skip, in CI a loud failure."""
    from django.db import connection

    if connection.vendor != "postgresql":
        _unavailable(f"{why}: run with DATABASE_URL naming a PostgreSQL database")


def _unavailable(message: str) -> NoReturn:
    if running_in_ci():
        pytest.fail(message)
    pytest.skip(message)


def clear_cache() -> None:
    """Empties the cache of this test process: with Redis, only the keys under its own
    prefix (each pytest-xdist worker has one, CONFIDE_REDIS_PREFIX), since the workers
    share the Redis database and Django's ``cache.clear()`` empties all of it."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    stale = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if stale:
        client.delete(*stale)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Connections opened by database threads close after each call, so that the test
    database can be dropped at the end (production keeps them for 60 s). Each pytest-xdist
    worker's test database has its own name (pytest-django's suffix, _gw0, _gw1...)."""
    from django.conf import settings
    from django.db import connections

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    connections.settings["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session", autouse=True)
def plain_http_in_process() -> None:
    """The in-process tests speak plain http, as the embedded default does. In CI the
    settings are production's, which redirect every plain request to https
    (tests/portal/test_production_is_https_only.py checks that)."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def redis_url() -> str:
    return require_service("REDIS_URL", "Redis (redis://127.0.0.1:6379/0)")


@pytest.fixture
def postgres_url() -> str:
    return require_service(
        "DATABASE_URL", "PostgreSQL (postgres://postgres@127.0.0.1:5432/confide_ci)"
    )


@pytest.fixture
def attachment_folder(settings: Any, tmp_path: Path) -> Path:
    """Attachments stored in a folder of the test's own (as the embedded default stores
    them in the data directory), so that a test can look at exactly what is on disk."""
    folder = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(folder),
                "allow_overwrite": True,
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        },
    }
    return folder


@pytest.fixture
async def world(transactional_db: None) -> AsyncIterator[Practice5]:
    """The five personas' practice, for a test on the event loop (a module of synchronous
    tests may have its own), the cache cleared before it; the connections of the threads it
    used are closed after it, so that the test database can be dropped."""
    from channels.db import database_sync_to_async
    from django.db import connections

    from tests.personas import make_practice

    clear_cache()
    made: Practice5 = await database_sync_to_async(make_practice)()
    yield made
    await sync_to_async(connections.close_all)()
