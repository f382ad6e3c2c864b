"""A client whose connection drops while the other side keeps sending ends up holding every
message exactly once, in order, decrypted: it reconnects, syncs from the last sequence
number it holds, and ignores what it already has."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from confide_client import ConfideClient
from tests.integration.conftest import ProxiedPair
from tests.integration.helpers import messages_until, nothing_more, send_paced

OpenClient = Callable[..., Awaitable[ConfideClient]]
COUNT = 20


@pytest.mark.parametrize("how", ["the network drops it", "the client aborts its own socket"])
async def test_a_client_reconnects_and_holds_every_message_once_in_order(
    how: str,
    proxied_pair: Callable[..., Awaitable[ProxiedPair]],
) -> None:
    pair = await proxied_pair()
    therapist, client, network = pair.therapist, pair.client, pair.network
    conversation = pair.conversation

    texts = [f"message {n} of {COUNT}" for n in range(1, COUNT + 1)]
    sending = asyncio.create_task(send_paced(therapist, conversation, texts, 0.01))
    first = await messages_until(client, 3)
    assert [m.seq for m in first] == [1, 2, 3]

    if how == "the network drops it":
        # Down for a while: the client's reconnect attempts fail until the network is back.
        network.refuse = True
        network.drop_connections()
        await asyncio.sleep(0.6)
        network.refuse = False
    else:
        client.drop_connection()

    assert await asyncio.wait_for(sending, 30) == list(range(1, COUNT + 1))
    rest = await messages_until(client, COUNT, timeout=15)
    held = first + rest
    assert [m.seq for m in held] == list(range(1, COUNT + 1))
    assert [m.text for m in held] == texts
    assert await nothing_more(client)
    assert client.connections >= 2
    assert client.position(conversation) == COUNT
