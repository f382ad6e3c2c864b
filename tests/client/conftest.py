"""Fixtures of the client's tests: the stand-in server and a socket connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from websockets.asyncio.server import Server, serve

from confide_client.backoff import Backoff
from confide_client.realtime import Limits, Realtime
from protocol.to_client import ServerFrame
from tests.client.stand_in import StandIn

NewRealtime = Callable[..., Realtime]


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[StandIn, str]]:
    """The stand-in server, and the URL of its websocket."""
    server = StandIn()
    running: Server = await serve(server.handle, "127.0.0.1", 0)
    port = next(iter(running.sockets)).getsockname()[1]
    try:
        yield server, f"ws://127.0.0.1:{port}/ws"
    finally:
        running.close()
        await running.wait_closed()


@pytest.fixture
async def new_realtime() -> AsyncIterator[NewRealtime]:
    """Makes a socket to a URL, handing pushed frames and ``ready`` limits to the lists
    given; every socket made is closed at the end."""
    made: list[Realtime] = []

    def make(
        url: str,
        pushed: list[ServerFrame] | None = None,
        readies: list[Limits] | None = None,
    ) -> Realtime:
        pushes = pushed if pushed is not None else []
        ready_limits = readies if readies is not None else []
        realtime = Realtime(
            url,
            origin="http://127.0.0.1:8000",
            cookie=lambda: "the-session",
            on_frame=pushes.append,
            on_ready=lambda user, limits: ready_limits.append(limits),
            backoff=Backoff(initial=0.01, maximum=0.05),
            open_timeout=5,
        )
        made.append(realtime)
        return realtime

    try:
        yield make
    finally:
        for realtime in made:
            await realtime.close()
