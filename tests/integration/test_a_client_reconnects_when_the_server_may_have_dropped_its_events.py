"""When the server's channel layer may have dropped events for a socket (it fell behind,
or Redis went away), the server closes the socket with 1012. The Python client takes that
as a reason to reconnect, not as the end of its session, and on reconnecting backfills
what was sent while it was away."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from confide_client import ConfideClient
from harness.servers import Stack
from messaging.layer import FanoutChannelLayer
from tests.integration.conftest import ProxiedPair
from tests.integration.helpers import messages_until, nothing_more
from tests.waiting import until

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(60)


async def test_a_client_closed_with_1012_reconnects_and_backfills(
    production_stack: Stack,
    proxied_pair: Callable[..., Awaitable[ProxiedPair]],
) -> None:
    pair = await proxied_pair()
    therapist, client, network = pair.therapist, pair.client, pair.network
    conversation, client_persona = pair.conversation, pair.client_persona
    assert await therapist.send_text(conversation, "before", timeout=15) == 1
    assert [m.text for m in await messages_until(client, 1)] == ["before"]
    connections_so_far = network.accepted

    # The client cannot come back until the test lets it: what is sent meanwhile can
    # only reach it by the backfill.
    network.refuse = True
    layer = FanoutChannelLayer(
        url=production_stack.redis_url or "", prefix=production_stack.env["CONFIDE_REDIS_PREFIX"]
    )
    try:
        # What the server's layer sends its own sockets when it may have lost their events.
        await layer.group_send(f"user.{client_persona.user_id}", {"type": "layer.reset"})
        await until(
            lambda: network.accepted > connections_so_far, timeout=10
        )  # closed; reconnecting
    finally:
        await layer.close()
    assert await therapist.send_text(conversation, "while away", timeout=15) == 2
    await asyncio.sleep(0.3)
    network.refuse = False

    (missed,) = await messages_until(client, 2, timeout=15)
    assert (missed.seq, missed.text) == (2, "while away")
    assert client.connections == 2
    assert await nothing_more(client)
    assert client.position(conversation) == 2
