"""One of two server processes (uvicorn, then Daphne) killed with SIGKILL while both
members send: its clients reconnect, through the failover front, to the other process,
resend what was not acknowledged, backfill what they missed, and lose and duplicate
nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from confide_client import ConfideClient
from harness.faults import TcpProxy
from harness.servers import LiveServer
from tests.integration.conftest import FaultStack
from tests.integration.exchange import start_exchange


async def test_clients_of_a_killed_process_move_to_the_other_and_lose_nothing(
    fault_stack: FaultStack,
    live_servers: Callable[..., list[LiveServer]],
    open_client: Callable[..., Awaitable[ConfideClient]],
    proxy: Callable[..., Awaitable[TcpProxy]],
) -> None:
    doomed, survivor = live_servers(2, fault_stack.stack)
    # The front sends every new connection to the doomed process while it lives.
    front = await proxy(doomed, survivor)
    exchange = await start_exchange(
        fault_stack.stack, fault_stack.therapist, open_client, front.url, front.url
    )
    accepted_before = front.accepted

    doomed.process.kill()
    assert doomed.process.wait(timeout=10) != 0

    await exchange.check_everything_arrived()
    # Both reconnected, and only the survivor can have taken them.
    assert exchange.client.connections >= 2 and exchange.therapist.connections >= 2
    assert front.accepted > accepted_before
    assert survivor.log().count(b'"event": "ws_open"') >= 2
