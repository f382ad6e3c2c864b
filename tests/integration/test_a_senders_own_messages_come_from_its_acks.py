"""The socket that sent a message gets no push of it (docs/protocol.md, "Delivery
guarantees"): the Python client holds its own message from the ``ack`` and the bytes it
sent, in order among the other member's, without a sync for a number it did not see
pushed. The same person's other device still gets it pushed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from confide_client import ConfideClient
from harness.servers import LiveServer
from tests.integration.helpers import messages_until, nothing_more
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]


async def test_the_sender_holds_its_messages_from_the_acks_and_its_other_device_from_pushes(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]],
) -> None:
    client_persona, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist)
    laptop = await open_client(server.url, client_persona)
    phone = await open_client(server.url, client_persona)
    for each in (therapist, laptop, phone):
        await each.connect()

    await laptop.send_text(conversation, "one")
    await therapist.send_text(conversation, "two")
    # The therapist's, pushed, after its own from the ack; then another of its own.
    on_laptop = await messages_until(laptop, 2)
    await laptop.send_text(conversation, "three")
    on_laptop += await messages_until(laptop, 3)
    on_phone = await messages_until(phone, 3)

    everything = [(1, "one"), (2, "two"), (3, "three")]
    assert [(m.seq, m.text) for m in on_laptop] == everything
    assert [(m.seq, m.text) for m in on_phone] == everything
    assert [m.sender_id for m in on_laptop] == [
        client_persona.user_id,
        personas.therapist.user_id,
        client_persona.user_id,
    ]
    assert laptop.position(conversation) == 3
    # Nothing held twice, and no sync for a number it was not pushed: its own came from
    # the acks.
    assert await nothing_more(laptop)
    assert laptop.stats.gap_syncs == 0
    assert laptop.stats.received == 3
