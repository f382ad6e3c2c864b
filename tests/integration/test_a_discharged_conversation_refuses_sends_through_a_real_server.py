"""Discharge through real server processes and the Python client: once the therapist
discharges a conversation, a send on the open socket and a message that waited in the
outbox while the client was offline (sent again when it reconnects) are each refused with
``conversation_closed`` and leave the outbox; nothing more is stored, and the history stays
readable to both."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from confide_client import ConversationClosedError
from tests.integration.conftest import ProxiedPair

pytestmark = pytest.mark.timeout(120)


async def test_the_socket_and_the_outbox_are_refused_after_a_discharge(
    proxied_pair: Callable[..., Awaitable[ProxiedPair]],
) -> None:
    pair = await proxied_pair(backfill=False)
    therapist, client, conversation = pair.therapist, pair.client, pair.conversation
    assert await client.send_text(conversation, "Before the discharge") == 1

    # The client's network goes: its next message waits in the outbox.
    pair.network.refuse = True
    pair.network.drop_connections()
    waiting = asyncio.ensure_future(client.send_text(conversation, "Written offline"))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    [_, queued] = client.message_statuses(conversation)
    assert queued.state in ("pending", "sending")

    await therapist.discharge_conversation(conversation)

    # Back online, the outbox sends it again and the server refuses it.
    pair.network.refuse = False
    with pytest.raises(ConversationClosedError):
        await asyncio.wait_for(waiting, timeout=30)
    refused = client.message_status(queued.client_message_id)
    assert refused is not None
    assert (refused.state, refused.reason) == ("failed", "conversation_closed")
    assert client.outbox.get(conversation, queued.client_message_id) is None

    # A send on the open socket is refused the same way.
    with pytest.raises(ConversationClosedError):
        await client.send_text(conversation, "After the discharge")
    assert client.message_statuses(conversation)[-1].reason == "conversation_closed"

    # Nothing more was stored; both still read what was.
    for reader in (therapist, client):
        page = await reader.history(conversation)
        assert [m.text for m in page.messages] == ["Before the discharge"]
        assert page.last_seq == 1
    summary = await client.conversation(conversation)
    assert summary.status == "discharged"
