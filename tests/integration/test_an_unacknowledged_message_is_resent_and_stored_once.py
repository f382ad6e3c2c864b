"""A message whose ack never reached the client is resent with the same bytes after the
client reconnects, and the server stores it once, under one sequence number."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from confide_client import ConfideClient
from tests.integration.conftest import ProxiedPair
from tests.integration.helpers import messages_from, nothing_more

OpenClient = Callable[..., Awaitable[ConfideClient]]


async def test_a_resent_message_is_stored_once_with_one_sequence_number(
    proxied_pair: Callable[..., Awaitable[ProxiedPair]],
) -> None:
    pair = await proxied_pair(ack_timeout=5.0)
    therapist, client, network = pair.therapist, pair.client, pair.network
    conversation = pair.conversation
    assert client.account is not None

    # The send reaches the server, but nothing the server says reaches the client.
    network.swallow_downstream = True
    sending = asyncio.create_task(client.send_text(conversation, "Only once, please."))
    stored = (await messages_from(therapist, client.account.id, 1))[0]
    assert stored.text == "Only once, please."
    assert len(client.outbox) == 1  # no ack yet: still waiting to be resent
    # The socket dies before the client read the ack.
    network.drop_connections()
    network.swallow_downstream = False

    seq = await asyncio.wait_for(sending, 15)
    assert seq == stored.seq == 1
    assert len(client.outbox) == 0
    assert client.stats.resends >= 1
    assert client.stats.duplicate_acks == 1  # the server recognised the same bytes

    # One stored message, one sequence number, delivered to the therapist once.
    page = await therapist.history(conversation)
    assert [(m.seq, m.client_message_id) for m in page.messages] == [(1, stored.client_message_id)]
    assert page.last_seq == 1
    assert await nothing_more(therapist)
