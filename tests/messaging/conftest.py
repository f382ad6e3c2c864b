"""Websocket fixtures: the real ASGI application, driven by WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from messaging.layer import FanoutChannelLayer
from messaging.services.writer import SendRequest
from portal.asgi import application
from protocol import parse_server_frame
from tests.messaging.layers import Reader
from tests.personas import Chat, Person

ORIGIN = b"http://127.0.0.1"


class Socket:
    """A connected test socket for one person."""

    def __init__(self, communicator: WebsocketCommunicator, person: Person) -> None:
        self.communicator = communicator
        self.person = person
        self.ready: dict[str, Any] = {}
        self.session_key = ""

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 2.0) -> dict[str, Any]:
        """The next frame; every frame the server sends must be one of the protocol's."""
        text = await self.communicator.receive_from(timeout=timeout)
        parse_server_frame(text)
        data: dict[str, Any] = json.loads(text)
        return data

    async def receive_type(self, frame_type: str, timeout: float = 2.0) -> dict[str, Any]:
        """The next frame of ``frame_type``, skipping pushes of other types."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == frame_type:
                return frame

    async def request(self, frame: dict[str, Any], timeout: float = 2.0) -> dict[str, Any]:
        """Sends a frame with a ref and returns the reply (or error) carrying that ref."""
        frame = {"ref": "r1", **frame}
        await self.send(frame)
        while True:
            reply = await self.receive(timeout)
            if reply.get("ref") == frame["ref"]:
                return reply

    async def nothing(self, timeout: float = 0.2) -> bool:
        result: bool = await self.communicator.receive_nothing(timeout=timeout)
        return result


def communicator(cookie: str | None, origin: bytes | None = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"host", b"127.0.0.1")]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws", headers=headers)


def send_request(
    chat: Chat, sender: Person, text: str, message_id: uuid.UUID | None = None
) -> SendRequest:
    """What a socket hands the writer for ``sender``'s ``text`` sealed in ``chat`` (epoch 0)."""
    message_id, wire = chat.seal(sender, text, client_message_id=message_id)
    return SendRequest(sender.id, chat.id, message_id, 0, wire, sender.identity.public)


@pytest.fixture(autouse=True)
def attachments_apart(attachment_folder: Path) -> Path:
    """No test stores attachments in the data directory."""
    return attachment_folder


Connect = Callable[[Person], Awaitable[Socket]]


@pytest.fixture
async def connect(transactional_db: None) -> AsyncIterator[Connect]:
    opened: list[WebsocketCommunicator] = []

    async def _connect(person: Person) -> Socket:
        cookie = await database_sync_to_async(person.session_cookie)()
        comm = communicator(cookie)
        opened.append(comm)
        connected, _ = await comm.connect()
        assert connected
        socket = Socket(comm, person)
        socket.session_key = cookie
        socket.ready = await socket.receive()
        assert socket.ready["type"] == "ready", socket.ready
        return socket

    yield _connect
    for comm in opened:
        await comm.disconnect()
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()


@pytest.fixture(autouse=True)
async def close_database_thread_connections() -> AsyncIterator[None]:
    """The database thread's connection would outlive the test and block dropping the
    test database."""
    yield
    await sync_to_async(connections.close_all)()


MakeLayers = Callable[..., list[FanoutChannelLayer]]


@pytest.fixture
async def make_layers() -> AsyncIterator[MakeLayers]:
    """Makes a channel layer for each Redis url given (none: one without Redis), all with
    one prefix of this test's, as the processes of one deployment; closed after the test."""
    made: list[FanoutChannelLayer] = []

    def make(*urls: str, **config: Any) -> list[FanoutChannelLayer]:
        prefix = f"confide-test-{secrets.token_hex(4)}"
        layers = [FanoutChannelLayer(url=url, prefix=prefix, **config) for url in urls or [""]]
        made.extend(layers)
        return layers

    yield make
    for layer in made:
        await asyncio.wait_for(layer.close(), 10)


@pytest.fixture
async def readers() -> AsyncIterator[list[Reader]]:
    """Readers of channel-layer channels (tests/messaging/layers.py), stopped after the test."""
    started: list[Reader] = []
    yield started
    for reader in started:
        await reader.stop()
