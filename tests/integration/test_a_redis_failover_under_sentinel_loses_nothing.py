"""REDIS_URL names a Redis Sentinel set (``redis+sentinel://``): the Redis primary is killed
with SIGKILL while both members send, the sentinel promotes the replica, and the servers
follow it. Once the clients have reconnected and backfilled, each holds every message
exactly once, in order, and the database holds each message once; the server's readiness
answers through the new primary.

The therapist and the client sit on two server processes, so the channel layer is the only
push path between them. Run on uvicorn and on Daphne (the ``fault_stack`` fixture).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from confide_client import ConfideClient
from harness.private_services import PrivateSentinelSet
from harness.servers import LiveServer, Stack, drop_production_stack, make_production_stack
from tests.integration.conftest import FaultStack
from tests.integration.exchange import start_exchange
from tests.personas import demo_therapist


@pytest.fixture
def sentinel_stack(
    fault_stack: FaultStack, tmp_path: Path
) -> Iterator[tuple[Stack, PrivateSentinelSet]]:
    """A production stack of its own on the fault tests' PostgreSQL, with REDIS_URL naming
    a new Sentinel set, on the server the ``fault_stack`` fixture names."""
    sentinels = PrivateSentinelSet(tmp_path / "redis")
    sentinels.start()
    stack = make_production_stack(tmp_path / "stack", fault_stack.postgres.admin_url, sentinels.url)
    stack.server_env = dict(fault_stack.stack.server_env)
    try:
        yield stack, sentinels
    finally:
        drop_production_stack(stack, fault_stack.postgres.admin_url)
        sentinels.stop()


async def test_a_redis_failover_under_sentinel_loses_nothing(
    sentinel_stack: tuple[Stack, PrivateSentinelSet],
    live_servers: Callable[..., list[LiveServer]],
    open_client: Callable[..., Awaitable[ConfideClient]],
) -> None:
    stack, sentinels = sentinel_stack
    therapist = demo_therapist(stack)
    process_a, process_b = live_servers(2, stack)
    assert sentinels.primary_port() == sentinels.primary.port
    exchange = await start_exchange(stack, therapist, open_client, process_a.url, process_b.url)

    sentinels.primary.kill()
    sentinels.wait_for_failover()

    await exchange.check_everything_arrived()
    # The failover was felt: the sockets went down with the layer and came back.
    assert exchange.client.connections >= 2
    assert exchange.therapist.connections >= 2

    # Readiness, and the cache (the sign-in's counters), answer through the new primary.
    for server in (process_a, process_b):
        answer = httpx.get(f"{server.url}/readyz", timeout=10, trust_env=False)
        assert answer.json() == {"ok": True, "database": "ok", "redis": "ok"}
    newcomer = await open_client(process_b.url, therapist, backfill=False)
    await newcomer.connect()
