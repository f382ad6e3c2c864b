"""A client that stops reading its socket while the other member keeps sending costs the
server a bounded amount of memory, and once it reads again it holds every message exactly
once, in order.

The client sits behind a proxy that stops reading what the server sends (its receive
buffer fixed at 64 KiB), so the server's frames back up into the kernel's send buffer and
then into the server process. The therapist sends ``COUNT`` messages of 100,000 characters
(each a 128 KiB padded ciphertext, about 171 KiB as a frame: some 33 MiB in all) as fast as
the server acknowledges them. The server process's resident memory (VmRSS) is sampled all
along; its growth over what it held before the stall must stay under ``BOUND``: the bytes a
socket may have queued with the default settings (``CONFIDE_SOCKET_QUEUE_BYTES``, 2 MiB, a
small fraction of what is sent) plus a fixed allowance for buffers and the allocator,
whatever the server does with the frames it cannot deliver (hold them, drop pushes the
client will backfill, or close the socket).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from confide_client import ConfideClient
from harness.faults import TcpProxy
from harness.servers import LiveServer, Stack
from tests.integration.helpers import messages_until, nothing_more
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
MiB = 1024 * 1024
TEXT_CHARS = 100_000
FRAME_BYTES = 171 * 1024  # base64 of a 128 KiB padded ciphertext, in a JSON frame
WARM_UP = 5
COUNT = 200
QUEUE_BYTES = 2 * MiB  # the default of CONFIDE_SOCKET_QUEUE_BYTES
BOUND = QUEUE_BYTES + 6 * MiB
SERVER_ENV = {
    # A send rate the server's limit does not slow (the server's speed bounds it).
    "CONFIDE_MESSAGE_RATE": "50",
    "CONFIDE_MESSAGE_BURST": "50",
}


def resident_bytes(pid: int) -> int:
    """The process's resident set size, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS")


async def _sample(pid: int, into: list[int]) -> None:
    while True:
        into.append(resident_bytes(pid))
        await asyncio.sleep(0.05)


async def test_a_client_that_stops_reading_costs_the_server_bounded_memory(
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[Any, Any]]],
    live_servers: Callable[..., list[LiveServer]],
    proxy: Callable[..., Awaitable[TcpProxy]],
) -> None:
    (server,) = live_servers(1, stack, SERVER_ENV)
    client_persona, conversation = await new_pair(server.url)
    front = await proxy(server, receive_buffer=64 * 1024)
    # Without backfill: the therapist's older conversations would cost the server memory.
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    client = await open_client(front.url, client_persona)
    await therapist.connect()
    await client.connect()
    texts = [f"{n:06d} " + "x" * TEXT_CHARS for n in range(1, WARM_UP + COUNT + 2)]

    # The same kind of traffic first, read normally: what it costs is not counted.
    for text in texts[:WARM_UP]:
        await therapist.send_text(conversation, text)
    await messages_until(client, WARM_UP)
    before = resident_bytes(server.process.pid)

    front.stall_downstream()
    samples: list[int] = []
    sampler = asyncio.create_task(_sample(server.process.pid, samples))
    try:
        for text in texts[WARM_UP : WARM_UP + COUNT]:
            await therapist.send_text(conversation, text, timeout=30)
        await asyncio.sleep(0.5)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    front.resume_downstream()
    # The conversation goes on; the client learns of anything it missed at the latest here.
    await therapist.send_text(conversation, texts[-1])

    held = await messages_until(client, WARM_UP + COUNT + 1, timeout=40)
    assert [m.seq for m in held] == list(range(WARM_UP + 1, WARM_UP + COUNT + 2))
    assert [m.text for m in held] == texts[WARM_UP:]
    assert await nothing_more(client)

    growth = max(samples) - before
    sent = COUNT * FRAME_BYTES
    assert growth < BOUND, (
        f"the server grew by {growth / MiB:.1f} MiB (from {before / MiB:.1f} MiB) while "
        f"{sent / MiB:.0f} MiB were sent to a client that did not read; the bound is "
        f"{BOUND / MiB:.1f} MiB"
    )
