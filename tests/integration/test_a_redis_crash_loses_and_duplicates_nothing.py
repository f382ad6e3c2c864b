"""Redis killed with SIGKILL while both members send, then restarted empty: once the clients
have reconnected and backfilled, each holds every message exactly once, in order, and the
database holds each message once.

The therapist and the client sit on two Daphne processes, so the channel layer is the only
push path between them; while Redis is down and after it comes back empty (its queues and
group memberships gone), only the database and the clients' syncs carry the messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from confide_client import ConfideClient
from harness.servers import LiveServer
from tests.integration.conftest import FaultStack
from tests.integration.exchange import start_exchange

DOWN_SECONDS = 1.5


async def test_a_redis_crash_loses_and_duplicates_nothing(
    fault_stack: FaultStack,
    live_servers: Callable[..., list[LiveServer]],
    open_client: Callable[..., Awaitable[ConfideClient]],
) -> None:
    process_a, process_b = live_servers(2, fault_stack.stack)
    exchange = await start_exchange(
        fault_stack.stack, fault_stack.therapist, open_client, process_a.url, process_b.url
    )

    fault_stack.redis.kill()
    await asyncio.sleep(DOWN_SECONDS)
    fault_stack.redis.start()

    await exchange.check_everything_arrived()
    # The crash was felt: both sockets went down with the layer and came back.
    assert exchange.client.connections >= 2
    assert exchange.therapist.connections >= 2
