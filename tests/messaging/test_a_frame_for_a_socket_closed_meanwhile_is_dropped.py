"""A frame for a socket that closed meanwhile (an event racing the close) is dropped, on
either server: Daphne raised autobahn's ``Disconnected`` and logged the application as
crashed, uvicorn raises ``ClientDisconnected``. The client syncs after it reconnects.
Any other failure to send still raises; after the server's own close nothing more is sent
(uvicorn raises for a frame after it)."""

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


async def test_nothing_is_sent_after_the_server_closed_the_socket() -> None:
    consumer = MessagingConsumer()
    sent: list[Any] = []

    async def record(message: Any) -> None:
        sent.append(message)

    consumer.base_send = record
    await consumer.close(code=4012)
    await consumer.send(text_data='{"type": "ack"}')
    assert sent == [{"type": "websocket.close", "code": 4012}]
