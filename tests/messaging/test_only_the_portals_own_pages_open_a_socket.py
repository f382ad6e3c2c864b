"""A websocket is opened only by the portal's own pages: the Origin must be the socket's
own scheme, allowed host and port. Another port or scheme of an allowed host, a missing
or opaque Origin, or a host outside ALLOWED_HOSTS is refused at the handshake."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from portal.asgi import application
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


async def opens(world: Practice5, host: str, origin: str | None, scheme: str = "ws") -> bool:
    cookie = await database_sync_to_async(world.client.session_cookie)()
    headers = [(b"host", host.encode()), (b"cookie", f"sessionid={cookie}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    comm = WebsocketCommunicator(application, "/ws", headers=headers)
    comm.scope["scheme"] = scheme
    connected, _ = await comm.connect()
    if connected:
        assert (await comm.receive_json_from())["type"] == "ready"
    await comm.disconnect()
    return bool(connected)


@pytest.mark.parametrize(
    ("host", "origin", "scheme"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000", "ws"),
        ("127.0.0.1", "http://127.0.0.1", "ws"),
        ("localhost:8000", "http://LOCALHOST:8000", "ws"),
        ("127.0.0.1", "https://127.0.0.1", "wss"),
    ],
)
async def test_the_portals_own_origin_opens_a_socket(
    world: Practice5, host: str, origin: str, scheme: str
) -> None:
    assert await opens(world, host, origin, scheme)


@pytest.mark.parametrize(
    ("host", "origin", "scheme"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:9", "ws"),
        ("127.0.0.1:8000", "https://127.0.0.1:8110", "ws"),
        ("127.0.0.1:8000", "ftp://127.0.0.1:8000", "ws"),
        ("127.0.0.1:8000", "https://127.0.0.1:8000", "ws"),
        ("127.0.0.1", "http://127.0.0.1", "wss"),
        ("127.0.0.1:8000", "http://evil.example:8000", "ws"),
        ("evil.example:8000", "http://evil.example:8000", "ws"),
        ("127.0.0.1:8000", "null", "ws"),
        ("127.0.0.1:8000", None, "ws"),
    ],
)
async def test_any_other_origin_is_refused_at_the_handshake(
    world: Practice5, host: str, origin: str | None, scheme: str
) -> None:
    assert not await opens(world, host, origin, scheme)


@override_settings(CONFIDE_ORIGINS=["https://portal.example.org"])
async def test_a_public_origin_named_for_a_rewriting_proxy_opens_a_socket(
    world: Practice5,
) -> None:
    assert await opens(world, "127.0.0.1:8000", "https://portal.example.org")
    assert not await opens(world, "127.0.0.1:8000", "https://other.example.org")
