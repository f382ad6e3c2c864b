"""An HTTP request's database connections are closed as it ends. Django runs each request's
synchronous code on a thread of its own, which no later request uses; with a connection
kept between requests (``CONN_MAX_AGE``) it stayed open until the garbage collector freed
it, so every recent request held a PostgreSQL connection, and a burst of them could use up
the server's."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished
from django.db import connections

from tests.messaging.test_parts_and_downloads_go_through_the_asgi_application import (
    exchange,
    scope,
)
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_collector() -> Iterator[None]:
    """The garbage collector kept from closing what the request left open."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def test_each_requests_connection_is_closed_when_it_ends(
    world: Practice5, no_collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Kept between requests as in production (the tests' own setting closes them).
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    used: list[Any] = []
    closed: list[int] = []
    close = type(connections["default"]).close

    def noted_close(wrapper: Any) -> None:
        closed.append(id(wrapper))
        close(wrapper)

    monkeypatch.setattr(type(connections["default"]), "close", noted_close)

    def note(**_: object) -> None:
        # On the request's own thread, at its end: the connection it used is still open.
        wrapper = connections["default"]
        assert wrapper.connection is not None
        used.append(wrapper)

    request_finished.connect(note, dispatch_uid="note-the-requests-connection")
    try:
        for _ in range(3):
            status, _, _ = await exchange(await scope(world.client, "GET", "/api/conversations"))
            assert status == 200
    finally:
        request_finished.disconnect(dispatch_uid="note-the-requests-connection")

    assert len(used) == 3 and len({id(w) for w in used}) == 3  # a thread, a connection each
    assert all(id(w) in closed for w in used)
    # Closed indeed; but Django never closes an in-memory database (the tests' SQLite).
    kept = [w for w in used if w.vendor == "sqlite" and w.is_in_memory_db()]
    assert [w.connection for w in used if w not in kept] in ([], [None] * 3)
