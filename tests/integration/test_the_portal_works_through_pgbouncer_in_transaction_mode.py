"""Through PgBouncer in transaction mode (docs/operations.md, "PostgreSQL with a replica
and a pooler"): a server whose DATABASE_URL names the pooler, with
CONFIDE_DATABASE_POOLER=true, serves both members of a new conversation sending at once:
every message is acknowledged, held once by both and stored, through a pooler that hands
each transaction the next of several server connections. The sign-ins, the listing, the
writer's batches and the job worker's queries all go through it."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Iterator

import pytest

from confide_client import ConfideClient
from harness.private_services import PrivatePgBouncer
from harness.servers import LiveServer
from tests.conftest import require_programs
from tests.integration.conftest import FaultStack
from tests.integration.exchange import start_exchange


@pytest.fixture
def pgbouncer(fault_stack: FaultStack) -> Iterator[PrivatePgBouncer]:
    require_programs([] if shutil.which("pgbouncer") else ["pgbouncer"])
    pooler = PrivatePgBouncer(fault_stack.postgres.port)
    pooler.start()
    yield pooler
    pooler.stop()


async def test_both_members_converse_through_the_pooler_and_lose_nothing(
    fault_stack: FaultStack,
    pgbouncer: PrivatePgBouncer,
    live_servers: Callable[..., list[LiveServer]],
    open_client: Callable[..., Awaitable[ConfideClient]],
) -> None:
    assert fault_stack.stack.database_name is not None
    [server] = live_servers(
        1,
        fault_stack.stack,
        {
            "DATABASE_URL": pgbouncer.url(fault_stack.stack.database_name),
            "CONFIDE_DATABASE_POOLER": "true",
        },
    )
    exchange = await start_exchange(
        fault_stack.stack, fault_stack.therapist, open_client, server.url, server.url
    )
    await exchange.check_everything_arrived()
    # The server's connections were the pooler's.
    log = (pgbouncer.root / "pgbouncer.log").read_text(errors="replace")
    assert "login attempt" in log
    assert b": a batch failed" not in server.log()
