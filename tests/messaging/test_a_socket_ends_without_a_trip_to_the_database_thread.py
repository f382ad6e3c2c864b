"""A socket that ends makes no trip to the shared database thread: Channels' own ending
closed old database connections there once more for every socket, a quarter of what a
disconnect cost, though every database call of the consumer closes them around itself.
The socket still leaves its group and gives back its lease."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.test import override_settings

from tests.messaging.conftest import Connect
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(CONFIDE_MAX_SOCKETS_PER_USER=1)
async def test_a_closing_socket_leaves_without_a_database_trip(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    clara = await connect(world.client)
    assert (await clara.request({"type": "ping"}))["type"] == "pong"

    trips: list[str] = []
    hop = SyncToAsync.__call__

    async def counted(self: SyncToAsync[..., Any], *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await hop(self, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(SyncToAsync, "__call__", counted)
        await clara.communicator.disconnect()

    assert trips == []
    # It left: the one place the limit allows is free, and the user's group is empty.
    again = await connect(world.client)
    assert (await again.request({"type": "ping"}))["type"] == "pong"
