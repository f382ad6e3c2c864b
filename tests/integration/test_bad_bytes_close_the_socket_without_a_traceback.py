"""A text frame that is not UTF-8 closes the socket with 1007, as the websocket standard
says; the server logs one line, without the traceback uvicorn writes for it, since the
fault is the client's, not a bug of the server's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from confide_client import ConfideClient
from harness.servers import LiveServer
from tests.personas import LivePersonas
from tests.waiting import until

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(30)


async def test_invalid_utf_8_closes_with_1007_and_logs_no_traceback(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    client = await open_client(server.url, personas.client)
    cookie = client._http.cookie("sessionid")
    logged_before = len(server.log())
    url = server.url.replace("http://", "ws://") + "/ws"
    headers = {"Origin": server.url, "Cookie": f"sessionid={cookie}"}
    async with connect(url, additional_headers=headers) as ws:
        assert '"ready"' in str(await ws.recv())
        ws.protocol.send_frame(Frame(Opcode.TEXT, b"\xff\xfe"))
        ws.send_data()
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1007

    await until(lambda: b"Invalid UTF-8" in server.log()[logged_before:], 5)
    logged = server.log()[logged_before:].decode(errors="replace")
    assert "Traceback" not in logged
    assert "WARNING" in logged.split("Invalid UTF-8")[0].splitlines()[-1]
