"""A frame for a socket that closed meanwhile (an event racing the close) is dropped, on
either server: Daphne raised autobahn's ``Disconnected`` and logged the application as
crashed, uvicorn raises ``ClientDisconnected``. The client syncs after it reconnects.
Any other failure to send still raises."""

from __future__ import annotations

from typing import Any

import pytest
from autobahn.exception import Disconnected
from uvicorn.protocols.utils import ClientDisconnected

from messaging.consumers import MessagingConsumer


def _consumer(failure: BaseException) -> tuple[MessagingConsumer, list[Any]]:
    consumer = MessagingConsumer()
    tried: list[Any] = []

    async def closed(message: Any) -> None:
        tried.append(message)
        raise failure

    consumer.base_send = closed
    return consumer, tried


@pytest.mark.parametrize(
    "failure",
    [Disconnected("Attempt to send on a closed protocol"), ClientDisconnected()],
    ids=["daphne", "uvicorn"],
)
async def test_a_frame_for_a_closed_socket_is_dropped_and_the_next_not_tried(
    failure: BaseException,
) -> None:
    consumer, tried = _consumer(failure)
    await consumer.send(text_data='{"type": "pong"}')
    assert consumer.gone
    await consumer.send(text_data='{"type": "pong"}')
    assert tried == [{"type": "websocket.send", "text": '{"type": "pong"}'}]


async def test_another_failure_to_send_still_raises() -> None:
    consumer, _ = _consumer(ValueError("not a closed socket"))
    with pytest.raises(ValueError):
        await consumer.send(text_data="{}")
    assert not consumer.gone
