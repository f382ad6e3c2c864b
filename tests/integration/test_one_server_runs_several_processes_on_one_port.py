"""``confide serve`` with several processes (CONFIDE_SERVER_PROCESSES), under uvicorn and
under Daphne (CONFIDE_SERVER, the fault stack's parameter): the processes share one port,
connections land in more than one of them, both members' messages arrive once and in order
wherever each member's socket landed, and stopping the server stops every process."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Awaitable, Callable

import httpx

from confide_client import ConfideClient
from harness.servers import LiveServer
from tests.integration.conftest import FaultStack
from tests.integration.exchange import start_exchange

PROCESSES = 2


def serving_pids(port: int) -> set[int]:
    """The processes holding the server's side of the connections to ``port``."""
    listed = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    return {int(pid) for pid in re.findall(r"pid=(\d+)", listed)}


def children(pid: int) -> set[int]:
    listed = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, timeout=10
    ).stdout
    return {int(p) for p in listed.split()}


async def held_connections_land_in(server: LiveServer) -> set[int]:
    """The processes that 24 connections held open at once landed in."""
    held = [httpx.AsyncClient(base_url=server.url) for _ in range(24)]
    try:
        for client in held:
            assert (await client.get("/healthz")).status_code == 200
        return serving_pids(server.port)
    finally:
        for client in held:
            await client.aclose()


async def test_several_processes_share_the_port_and_lose_nothing(
    fault_stack: FaultStack,
    live_servers: Callable[..., list[LiveServer]],
    open_client: Callable[..., Awaitable[ConfideClient]],
) -> None:
    [server] = live_servers(1, fault_stack.stack, {"CONFIDE_SERVER_PROCESSES": str(PROCESSES)})
    # Connections held open at once: the kernel hands each to one of the processes. The
    # server is ready when one process answers; the other may still be starting, so the
    # rounds go on (for at most 30 s) until connections have landed in both.
    pids: set[int] = set()
    deadline = time.monotonic() + 30
    while len(pids) < PROCESSES and time.monotonic() < deadline:
        async with asyncio.timeout(30):
            pids |= await held_connections_land_in(server)
        if len(pids) < PROCESSES:
            await asyncio.sleep(0.5)
    assert len(pids) >= 2, f"every connection went to one process: {pids}"
    assert pids <= children(server.process.pid) | {server.process.pid}

    exchange = await start_exchange(
        fault_stack.stack, fault_stack.therapist, open_client, server.url, server.url
    )
    await exchange.check_everything_arrived()

    server.stop()
    assert server.process.returncode is not None
    for pid in pids:
        assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0
