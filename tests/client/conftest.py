"""Fixtures of the client's tests: the stand-in server and a socket connected to it, and
the stand-in portal (HTTP and websocket) with a client, their therapist and their
conversation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.server import Server, serve

from confide_client.backoff import Backoff
from confide_client.client import ConfideClient
from confide_client.realtime import Limits, Realtime
from protocol.to_client import ServerFrame
from tests.client.stand_in import StandIn
from tests.client.stand_in_portal import Person, StandInPortal, running

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
            on_ready=lambda user, limits, generation: ready_limits.append(limits),
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


PASSWORD = "correct horse battery staple"
SignIn = Callable[..., Awaitable[ConfideClient]]


@dataclass
class Practice:
    """The stand-in portal with a client (Clara, who accepted the messaging agreement),
    their therapist (Theo), another client who has not accepted it yet (Oscar, also Theo's),
    and each client's conversation with Theo."""

    portal: StandInPortal
    therapist: Person
    client: Person
    other_client: Person
    conversation: uuid.UUID
    other_conversation: uuid.UUID

    @property
    def url(self) -> str:
        return self.portal.url


@pytest.fixture
async def practice() -> AsyncIterator[Practice]:
    portal = StandInPortal()
    theo = portal.add_person("therapist", "Theo", PASSWORD)
    clara = portal.add_person("client", "Clara", PASSWORD)
    oscar = portal.add_person("client", "Oscar", PASSWORD, agreed=False)
    conversation = portal.add_conversation(clara, theo)
    other = portal.add_conversation(oscar, theo)
    async with running(portal):
        yield Practice(portal, theo, clara, oscar, conversation, other)


@pytest.fixture
async def sign_in(practice: Practice) -> AsyncIterator[SignIn]:
    """Signs a persona in to the stand-in portal (and connects, unless ``connect=False``)
    with quick reconnects; the other options go to ``ConfideClient``. Every client made is
    closed at the end."""
    made: list[ConfideClient] = []

    async def make(person: Person, *, connect: bool = True, **options: Any) -> ConfideClient:
        options.setdefault("backoff", Backoff(initial=0.01, maximum=0.05))
        client = ConfideClient(practice.url, **options)
        made.append(client)
        await client.sign_in(person.email, PASSWORD)
        if connect:
            await client.connect(timeout=5)
        return client

    try:
        yield make
    finally:
        for client in made:
            await client.close()
