"""Both members of a new conversation sending at once, while a fault test breaks something.

``start_exchange`` has the therapist and the client each send ``EACH`` messages, one every
``PAUSE`` seconds after the previous ack, and returns once the client holds the first few,
so the fault strikes mid-run. ``Exchange.check_everything_arrived`` then requires the
delivery contract: every send acknowledged; both members holding every message once, in
sequence order, and nothing more; the database holding exactly those messages, each under
the number and id its ack and the members saw.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from confide_client import ConfideClient, ReceivedMessage
from harness.servers import Stack
from tests.integration.helpers import messages_until, nothing_more, send_paced, stored_messages
from tests.personas import LivePersona, invite_client

EACH = 15
PAUSE = 0.1
HELD_BEFORE_THE_FAULT = 4


@dataclass
class Exchange:
    stack: Stack
    therapist: ConfideClient
    client: ConfideClient
    conversation: uuid.UUID
    from_therapist: list[str]
    from_client: list[str]
    sending: asyncio.Future[list[list[int]]]
    held_before: list[ReceivedMessage]

    async def check_everything_arrived(self) -> None:
        therapist_seqs, client_seqs = await asyncio.wait_for(self.sending, 45)
        total = len(self.from_therapist) + len(self.from_client)
        acked = dict(zip(therapist_seqs, self.from_therapist, strict=True))
        acked.update(zip(client_seqs, self.from_client, strict=True))
        assert sorted(acked) == list(range(1, total + 1))

        held_by_client = self.held_before + await messages_until(self.client, total, timeout=20)
        held_by_therapist = await messages_until(self.therapist, total, timeout=20)
        assert await nothing_more(self.client)
        assert await nothing_more(self.therapist)

        # The text is what the members opened from the stored ciphertext.
        stored = stored_messages(self.stack, self.conversation)
        for held in (held_by_client, held_by_therapist):
            assert [(m.seq, m.text) for m in held] == sorted(acked.items())
            assert [(m.seq, m.client_message_id) for m in held] == stored


async def start_exchange(
    stack: Stack,
    therapist_persona: LivePersona,
    open_client: Callable[..., Awaitable[ConfideClient]],
    therapist_url: str,
    client_url: str,
) -> Exchange:
    """A new client of the therapist; both connected and sending."""
    client_persona, conversation = await invite_client(therapist_url, therapist_persona)
    # Without backfill: the therapist's conversations of other tests stay out of the way.
    therapist = await open_client(therapist_url, therapist_persona, backfill=False)
    client = await open_client(client_url, client_persona)
    await therapist.connect()
    await client.connect()
    from_therapist = [f"therapist {n}" for n in range(1, EACH + 1)]
    from_client = [f"client {n}" for n in range(1, EACH + 1)]
    sending: asyncio.Future[Any] = asyncio.gather(
        send_paced(therapist, conversation, from_therapist, PAUSE),
        send_paced(client, conversation, from_client, PAUSE),
    )
    held_before = await messages_until(client, HELD_BEFORE_THE_FAULT)
    return Exchange(
        stack,
        therapist,
        client,
        conversation,
        from_therapist,
        from_client,
        sending,
        held_before,
    )
