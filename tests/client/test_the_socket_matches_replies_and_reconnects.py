"""The websocket layer, against a small stand-in server on 127.0.0.1: it sends the session
cookie and an Origin, waits for ``ready``, matches replies to requests by ``ref`` whatever
their order, hands other frames on, reconnects after a drop, and stops for good when the
server ends the session."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from portal.client.backoff import Backoff
from portal.client.errors import MessageTooLargeError, NotFoundError, SessionEndedError
from portal.client.realtime import Limits, Realtime

READY = {
    "type": "ready",
    "user": 7,
    "limits": {
        "max_frame_bytes": 4096,
        "message_rate": 100,
        "message_burst": 100,
        "history_page": 100,
        "max_sockets": 10,
    },
}


class StandIn:
    """Answers ``ping`` with ``pong``; holds back the first of two pings to answer the
    second first; answers ``fail`` with ``not_found``; pushes one frame on ``push``."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.end_session = False
        self.held: list[dict[str, Any]] = []

    async def handle(self, socket: ServerConnection) -> None:
        self.headers.append(dict(socket.request.headers) if socket.request else {})
        if self.end_session:
            await socket.close(4401)
            return
        await socket.send(json.dumps(READY))
        async for text in socket:
            frame = json.loads(text)
            ref = frame.get("ref")
            if frame["type"] == "hold":
                self.held.append({"type": "pong", "ref": ref, "order": "first"})
            elif frame["type"] == "ping":
                await socket.send(json.dumps({"type": "pong", "ref": ref, "order": "second"}))
                for reply in self.held:
                    await socket.send(json.dumps(reply))
                self.held.clear()
            elif frame["type"] == "fail":
                error = {"type": "error", "code": "not_found", "message": "no", "ref": ref}
                await socket.send(json.dumps(error))
            elif frame["type"] == "push":
                await socket.send(json.dumps({"type": "typing", "conversation": "c", "user": 1}))


@pytest.fixture
async def stand_in() -> AsyncIterator[tuple[StandIn, str]]:
    server = StandIn()
    running: Server = await serve(server.handle, "127.0.0.1", 0)
    port = next(iter(running.sockets)).getsockname()[1]
    try:
        yield server, f"ws://127.0.0.1:{port}/ws"
    finally:
        running.close()
        await running.wait_closed()


def _realtime(url: str, pushed: list[dict[str, Any]], readies: list[Limits]) -> Realtime:
    return Realtime(
        url,
        origin="http://127.0.0.1:8000",
        cookie=lambda: "the-session",
        on_frame=pushed.append,
        on_ready=lambda user, limits: readies.append(limits),
        backoff=Backoff(initial=0.01, maximum=0.05),
        open_timeout=5,
    )


async def test_the_handshake_carries_origin_and_session_and_waits_for_ready(
    stand_in: tuple[StandIn, str],
) -> None:
    server, url = stand_in
    readies: list[Limits] = []
    realtime = _realtime(url, [], readies)
    try:
        realtime.start()
        await realtime.wait_connected(5)
        assert server.headers[0]["origin"] == "http://127.0.0.1:8000"
        assert server.headers[0]["cookie"] == "sessionid=the-session"
        assert readies == [Limits(4096, 100, 100, 100, 10)]
    finally:
        await realtime.close()


async def test_replies_are_matched_by_ref_in_whatever_order_they_come(
    stand_in: tuple[StandIn, str],
) -> None:
    _, url = stand_in
    realtime = _realtime(url, [], [])
    try:
        realtime.start()
        await realtime.wait_connected(5)
        held = asyncio.create_task(realtime.call({"type": "hold"}, 5))
        await asyncio.sleep(0.05)
        second = await realtime.call({"type": "ping"}, 5)
        first = await held
        assert (first["order"], second["order"]) == ("first", "second")
    finally:
        await realtime.close()


async def test_an_error_reply_raises_the_servers_code_and_pushes_go_to_the_handler(
    stand_in: tuple[StandIn, str],
) -> None:
    _, url = stand_in
    pushed: list[dict[str, Any]] = []
    realtime = _realtime(url, pushed, [])
    try:
        realtime.start()
        await realtime.wait_connected(5)
        with pytest.raises(NotFoundError):
            await realtime.call({"type": "fail"}, 5)
        await realtime.send({"type": "push"})
        await realtime.call({"type": "ping"}, 5)
        assert pushed == [{"type": "typing", "conversation": "c", "user": 1}]
    finally:
        await realtime.close()


async def test_a_frame_over_the_servers_limit_is_refused_before_sending(
    stand_in: tuple[StandIn, str],
) -> None:
    _, url = stand_in
    realtime = _realtime(url, [], [])
    try:
        realtime.start()
        await realtime.wait_connected(5)
        with pytest.raises(MessageTooLargeError):
            await realtime.call({"type": "ping", "padding": "x" * 5000}, 5)
    finally:
        await realtime.close()


async def test_after_a_dropped_connection_it_reconnects_by_itself(
    stand_in: tuple[StandIn, str],
) -> None:
    server, url = stand_in
    readies: list[Limits] = []
    realtime = _realtime(url, [], readies)
    try:
        realtime.start()
        await realtime.wait_connected(5)
        realtime.abort()
        for _ in range(200):
            if realtime.connections == 2 and realtime.connected.is_set():
                break
            await asyncio.sleep(0.01)
        assert realtime.connections == 2 and len(readies) == 2
        assert (await realtime.call({"type": "ping"}, 5))["type"] == "pong"
    finally:
        await realtime.close()


async def test_a_session_ended_by_the_server_stops_reconnecting(
    stand_in: tuple[StandIn, str],
) -> None:
    server, url = stand_in
    server.end_session = True
    realtime = _realtime(url, [], [])
    try:
        realtime.start()
        with pytest.raises(SessionEndedError):
            await realtime.wait_connected(5)
        await asyncio.sleep(0.1)
        assert len(server.headers) == 1  # no second attempt
    finally:
        await realtime.close()
