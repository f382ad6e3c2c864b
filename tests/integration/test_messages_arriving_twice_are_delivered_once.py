"""Messages that reach the client twice, as live pushes and again in a ``sync`` reply, are
delivered once each, in order: the client ignores a sequence number it already holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from confide_client import ConfideClient
from tests.integration.conftest import ProxiedPair
from tests.integration.helpers import messages_until, nothing_more

OpenClient = Callable[..., Awaitable[ConfideClient]]
COUNT = 8


async def test_a_message_pushed_and_synced_is_delivered_once(
    proxied_pair: Callable[..., Awaitable[ProxiedPair]],
) -> None:
    pair = await proxied_pair()
    therapist, client, network = pair.therapist, pair.client, pair.network
    conversation = pair.conversation

    # The pushes of every message wait in the network, and the client asks for a sync
    # while it still holds none of them: the sync reply carries them all a second time.
    network.hold_downstream()
    texts = [f"twice {n}" for n in range(1, COUNT + 1)]
    for text in texts:
        await therapist.send_text(conversation, text)
    syncing = asyncio.create_task(client.sync())
    await asyncio.sleep(0.3)  # the sync request reaches the server
    network.release_downstream()
    await asyncio.wait_for(syncing, 10)

    held = await messages_until(client, COUNT)
    assert [(m.seq, m.text) for m in held] == list(enumerate(texts, start=1))
    assert await nothing_more(client)
    assert client.position(conversation) == COUNT
    assert client.stats.received == COUNT
