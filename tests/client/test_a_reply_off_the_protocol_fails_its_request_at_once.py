"""A reply that is not a frame of the protocol fails the request it names (by the ``ref``
in its raw JSON) with ProtocolError at once, instead of leaving it to run into its timeout,
which delivery would take for a dead socket. A frame off the protocol that names no
waiting request is dropped, and the socket stays up."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from confide_client.errors import ProtocolError
from protocol.to_client import PongFrame, ServerFrame, TypingEvent
from protocol.to_server import HistoryFrame, PingFrame, TypingFrame
from tests.client.conftest import NewRealtime
from tests.client.stand_in import CONVERSATION, TYPING, StandIn

# Far longer than the test may take: only the frame itself can end the wait.
PATIENT = 30.0
QUICK = 2.0


def _page(**changes: Any) -> dict[str, Any]:
    page = {
        "type": "history",
        "conversation": str(CONVERSATION),
        "messages": [],
        "has_more": False,
        "last_seq": 0,
    }
    return {**page, **changes}


OFF_THE_PROTOCOL = {
    "an extra field": _page(order="first"),
    "a missing field": {"type": "history", "conversation": str(CONVERSATION)},
    "a value of the wrong type": _page(has_more="no"),
    "a message that is not one": _page(messages=[{"seq": 1}]),
    "a type the protocol lacks": {"type": "hold"},
    "an error without its message": {"type": "error", "code": "not_found"},
}


@pytest.mark.parametrize("reply", OFF_THE_PROTOCOL.values(), ids=OFF_THE_PROTOCOL.keys())
async def test_a_reply_off_the_protocol_raises_protocol_error_without_waiting_for_the_timeout(
    reply: dict[str, Any], stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    server, url = stand_in
    server.history = lambda frame: [json.dumps({**reply, "ref": frame.ref})]
    realtime = new_realtime(url)
    realtime.start()
    await realtime.wait_connected(5)

    with pytest.raises(ProtocolError):
        await asyncio.wait_for(
            realtime.call(HistoryFrame(conversation=CONVERSATION), PATIENT), QUICK
        )

    # The socket is still the same one, and still answers.
    assert isinstance(await realtime.call(PingFrame(), 5), PongFrame)
    assert realtime.connections == 1


async def test_a_frame_off_the_protocol_that_answers_nothing_is_dropped(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    server, url = stand_in
    server.pushes = [
        json.dumps({"type": "typing", "conversation": "c", "user": 1}),
        json.dumps({"type": "typing", "conversation": str(CONVERSATION), "user": 1, "x": 0}),
        "not JSON",
        "[]",
        # Python's json would raise RecursionError reading this for its ref.
        '{"type": "typing", "ref": ' + "[" * 1000 + "]" * 1000 + "}",
        TYPING,
    ]
    pushed: list[ServerFrame] = []
    realtime = new_realtime(url, pushed)
    realtime.start()
    await realtime.wait_connected(5)

    await realtime.send(TypingFrame(conversation=CONVERSATION))
    assert isinstance(await realtime.call(PingFrame(), 5), PongFrame)

    assert pushed == [TypingEvent(conversation=CONVERSATION, user=1)]
    assert realtime.connections == 1
