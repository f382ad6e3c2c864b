"""The websocket layer, against a small stand-in server on 127.0.0.1: it sends the session
cookie and an Origin, waits for ``ready``, matches replies to requests by ``ref`` whatever
their order, hands other frames on, reconnects after a drop, and stops for good when the
server ends the session."""

from __future__ import annotations

import asyncio

import pytest

from confide_client.errors import MessageTooLargeError, NotFoundError, SessionEndedError
from confide_client.realtime import Limits
from protocol.to_client import PongFrame, ReadOkFrame, ServerFrame, TypingEvent
from protocol.to_server import PingFrame, ReadFrame, SendFrame, TypingFrame
from tests.client.conftest import NewRealtime
from tests.client.stand_in import CONVERSATION, STRANGER, StandIn


async def test_the_handshake_carries_origin_and_session_and_waits_for_ready(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    server, url = stand_in
    readies: list[Limits] = []
    realtime = new_realtime(url, readies=readies)
    realtime.start()
    await realtime.wait_connected(5)
    assert server.headers[0]["origin"] == "http://127.0.0.1:8000"
    assert server.headers[0]["cookie"] == "sessionid=the-session"
    assert readies == [
        Limits(
            max_frame_bytes=4096,
            message_rate=100,
            message_burst=100,
            history_page=100,
            max_sockets=10,
        )
    ]


async def test_replies_are_matched_by_ref_in_whatever_order_they_come(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    _, url = stand_in
    realtime = new_realtime(url)
    realtime.start()
    await realtime.wait_connected(5)
    # The stand-in holds back the answer to the read of seq 1 until it answered the next.
    held = asyncio.create_task(realtime.call(ReadFrame(conversation=CONVERSATION, seq=1), 5))
    await asyncio.sleep(0.05)
    second = await realtime.call(ReadFrame(conversation=CONVERSATION, seq=2), 5)
    first = await held
    assert isinstance(first, ReadOkFrame) and isinstance(second, ReadOkFrame)
    assert (first.seq, second.seq) == (1, 2)


async def test_an_error_reply_raises_the_servers_code_and_pushes_go_to_the_handler(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    _, url = stand_in
    pushed: list[ServerFrame] = []
    realtime = new_realtime(url, pushed)
    realtime.start()
    await realtime.wait_connected(5)
    with pytest.raises(NotFoundError):
        await realtime.call(ReadFrame(conversation=STRANGER, seq=2), 5)
    await realtime.send(TypingFrame(conversation=CONVERSATION))
    await realtime.call(PingFrame(), 5)
    assert pushed == [TypingEvent(conversation=CONVERSATION, user=1)]


async def test_a_frame_over_the_servers_limit_is_refused_before_sending(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    _, url = stand_in
    realtime = new_realtime(url)
    realtime.start()
    await realtime.wait_connected(5)
    too_large = SendFrame(
        conversation=CONVERSATION, client_message_id=STRANGER, epoch=0, ciphertext="x" * 5000
    )
    with pytest.raises(MessageTooLargeError):
        await realtime.call(too_large, 5)


async def test_after_a_dropped_connection_it_reconnects_by_itself(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    _, url = stand_in
    readies: list[Limits] = []
    realtime = new_realtime(url, readies=readies)
    realtime.start()
    await realtime.wait_connected(5)
    realtime.abort()
    for _ in range(200):
        if realtime.connections == 2 and realtime.connected.is_set():
            break
        await asyncio.sleep(0.01)
    assert realtime.connections == 2 and len(readies) == 2
    assert isinstance(await realtime.call(PingFrame(), 5), PongFrame)


async def test_a_session_ended_by_the_server_stops_reconnecting(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    server, url = stand_in
    server.end_session = True
    realtime = new_realtime(url)
    realtime.start()
    with pytest.raises(SessionEndedError):
        await realtime.wait_connected(5)
    await asyncio.sleep(0.1)
    assert len(server.headers) == 1  # no second attempt
