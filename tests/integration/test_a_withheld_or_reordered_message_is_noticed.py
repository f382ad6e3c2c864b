"""The Python client seals its sender's order into every message and reads it back
(crypto/SPEC.md, "Order"): a server that withholds a message and numbers the rest without
a gap, or swaps two, is reported with an ``OrderWarning`` on both sides, in the sender's
own times; messages in order give no warning at all. The server's database is edited here
as a compromised server could (tests/tampering.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.integration.helpers import messages_in, order_warnings
from tests.personas import LivePersona, LivePersonas
from tests.tampering import swap, withhold

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]


async def test_a_withheld_and_a_swapped_message_are_reported_on_both_sides(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    client_persona, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    client = await open_client(server.url, client_persona)
    await therapist.connect()
    await client.connect()
    started = datetime.now(UTC)

    for text in ("one", "two", "three"):
        await therapist.send_text(conversation, text)
    assert [m.text for m in await messages_in(client, conversation, 3)] == ["one", "two", "three"]
    for text in ("four", "five"):
        await client.send_text(conversation, text)
    held = await messages_in(therapist, conversation, 5, timeout=120)
    # Every message carries when it was written, by its sender's clock, and its order.
    for message in held:
        assert message.written_at is not None
        assert started - timedelta(seconds=5) <= message.written_at <= datetime.now(UTC)
    # In order, nothing is reported.
    assert await order_warnings(therapist, conversation, 0.5) == []
    assert await order_warnings(client, conversation, 0.1) == []

    # The server withholds the therapist's "two" and numbers the rest 1 to 4, then swaps
    # the client's "four" and "five" (now 3 and 4).
    withhold(stack, conversation, 2, last_seq=5)
    swap(stack, conversation, 3, 4)

    # Both sides, starting afresh, read the whole conversation from its first message.
    therapist_id = therapist.account.id if therapist.account else 0
    client_id = client.account.id if client.account else 0
    for persona in (client_persona, personas.therapist):
        again = await open_client(server.url, persona)
        await again.connect()
        # A persona with a long history elsewhere (the therapist) backfills it all first.
        texts = [m.text for m in await messages_in(again, conversation, 4, timeout=120)]
        assert texts == ["one", "three", "five", "four"]
        # Reported once each, when the conversation's messages are all in.
        warnings = await order_warnings(again, conversation, 60, expected=3)
        assert [(w.kind, w.seq, w.sender_id) for w in warnings] == [
            ("missing", 2, therapist_id),
            ("unseen", 2, therapist_id),
            ("out_of_order", 4, client_id),
        ]
        missing = warnings[0]
        assert (missing.first, missing.last) == (2, 2)
        assert missing.written_after is not None and missing.written_before is not None
        assert started - timedelta(seconds=5) <= missing.written_after <= missing.written_before
        await again.close()
