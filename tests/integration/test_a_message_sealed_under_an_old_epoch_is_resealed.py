"""A client that did not hear of a new epoch seals its message under the old one; the
server answers ``stale_epoch``, and the client fetches the new envelope, re-seals the
same text under the same client message id, and the message is stored once, keeping its
place in its sender's order (crypto/SPEC.md, "Order"): the reader sees no gap."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import crypto
from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.integration.helpers import messages_from, order_warnings, stored_ciphertexts
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]


async def test_a_stale_epoch_send_is_resealed_under_the_new_epoch(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[Any, Any]]],
) -> None:
    client_persona, conversation = await new_pair()
    client = await open_client(server.url, client_persona)
    (listed,) = await client.conversations()
    assert listed.current_epoch == 0

    therapist = await open_client(server.url, personas.therapist)
    await therapist.connect()
    assert await therapist.rekey(conversation) == 1

    # The client connects only now: it missed the epoch push and still believes in epoch 0.
    await client.connect()
    seq = await client.send_text(conversation, "Sealed twice, stored once.")
    assert client.stats.reseals == 1
    assert client.conversation_key(conversation, 1) == therapist.conversation_key(conversation, 1)

    (heard,) = await messages_from(therapist, client_persona.user_id, 1)
    assert (heard.seq, heard.text) == (seq, "Sealed twice, stored once.")
    page = await therapist.history(conversation)
    assert [m.seq for m in page.messages] == [seq]

    # Re-sealed, it kept its counter: the next message is the session's second.
    await client.send_text(conversation, "And then one more.")
    await messages_from(therapist, client_persona.user_id, 1)
    orders = [crypto.parse_message(c).order for c in stored_ciphertexts(stack, conversation)]
    assert [order.counter for order in orders if order is not None] == [1, 2]
    assert await order_warnings(therapist, conversation, 0.3) == []
