"""PostgreSQL stopped at once (``pg_ctl stop -m immediate``, as in a crash) while both
members send, then started again: no message was acknowledged that the database does not
hold, the clients resend what was refused or left unanswered, and in the end each message
sent is stored exactly once and held by both members exactly once, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from confide_client import ConfideClient
from harness.servers import LiveServer
from tests.integration.conftest import FaultStack
from tests.integration.exchange import start_exchange

DOWN_SECONDS = 1.5


async def test_a_postgres_crash_acks_only_what_was_committed(
    fault_stack: FaultStack,
    live_servers: Callable[..., list[LiveServer]],
    open_client: Callable[..., Awaitable[ConfideClient]],
) -> None:
    (server,) = live_servers(1, fault_stack.stack)
    exchange = await start_exchange(
        fault_stack.stack, fault_stack.therapist, open_client, server.url, server.url
    )

    fault_stack.postgres.stop("immediate")
    await asyncio.sleep(DOWN_SECONDS)
    fault_stack.postgres.start()

    # Every ack names a message the database holds under that number and id.
    await exchange.check_everything_arrived()
    # The crash was felt: some send was refused or went unanswered and was sent again.
    assert exchange.therapist.stats.resends + exchange.client.stats.resends >= 1
