"""Two Daphne processes sharing PostgreSQL and Redis deliver each other's messages: the
therapist on process A and the client on process B hear each other within a second."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.integration.helpers import messages_from
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
ROUNDS = 5


async def _latency(sender: ConfideClient, receiver: ConfideClient, conversation: Any) -> float:
    assert sender.account is not None
    started = time.perf_counter()
    text = f"sent at {started}"
    await sender.send_text(conversation, text)
    (message,) = await messages_from(receiver, sender.account.id, 1, timeout=5)
    assert message.text == text
    return time.perf_counter() - started


async def test_messages_cross_between_two_processes_within_a_second(
    production_stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[Any, Any]]],
    live_servers: Callable[..., list[LiveServer]],
) -> None:
    process_a, process_b = live_servers(2, production_stack)
    client_persona, conversation = await new_pair(process_b.url)
    therapist = await open_client(process_a.url, personas.therapist)
    client = await open_client(process_b.url, client_persona)
    await therapist.connect()
    await client.connect()

    latencies = []
    for _ in range(ROUNDS):
        latencies.append(await _latency(client, therapist, conversation))
        latencies.append(await _latency(therapist, client, conversation))
    assert max(latencies) < 1.0, latencies
    # Only the channel layer carries a push from one process to the other; the gapless
    # sequence shows that no message needed a sync to arrive.
    assert client.stats.gap_syncs == therapist.stats.gap_syncs == 0
