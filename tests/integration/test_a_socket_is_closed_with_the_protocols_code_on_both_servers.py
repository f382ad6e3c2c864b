"""The server closes a websocket with the protocol's close code (protocol/errors.py,
``CloseCode``) on uvicorn and on Daphne alike: Daphne's websocket library takes only a
plain integer, and refused the enum the consumer closes with (the application crashed, and
the client saw 1011 or nothing instead of what to do next)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.servers import LiveServer, Stack
from portal.serving import SERVERS
from protocol.errors import CloseCode


@pytest.mark.parametrize("server_name", SERVERS)
async def test_a_signed_out_socket_is_closed_with_unauthenticated(
    server_name: str, stack: Stack, live_servers: Callable[..., list[LiveServer]]
) -> None:
    (server,) = live_servers(1, stack, {"CONFIDE_SERVER": server_name})
    url = server.url.replace("http://", "ws://") + "/ws"
    async with connect(url, additional_headers={"Origin": server.url}, proxy=None) as socket:
        with pytest.raises(ConnectionClosed):
            await socket.recv()
        assert socket.close_code == CloseCode.UNAUTHENTICATED
    assert b"Exception inside application" not in server.log()
