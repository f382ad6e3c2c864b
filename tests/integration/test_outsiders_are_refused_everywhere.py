"""Over the real server, nobody outside a conversation learns or changes anything in it:
another client, another therapist, the practice admin and a signed-out visitor get
``not_found`` or ``unauthenticated`` for the conversation over HTTP, every websocket frame
naming it is answered ``not_found``, and the members see nothing stored, read or typed. A
websocket from another site, or with no Origin at all, is refused at the handshake."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import crypto
from confide_client import ConfideClient, NotFoundError, ReadReceipt, Typing, UnauthenticatedError
from harness.servers import LiveServer
from tests.integration.helpers import no_event_of, nothing_more
from tests.personas import LivePersona, LivePersonas, now_ms

OpenClient = Callable[..., Awaitable[ConfideClient]]
KINDS = ("send", "sync", "history", "read", "typing", "rekey")


def _frames(outsider: ConfideClient, conversation: uuid.UUID, epoch: int) -> dict[str, Any]:
    """One frame of each kind that names the conversation, well formed and validly signed
    by the outsider, so only authorisation can refuse them."""
    assert outsider.account is not None
    key = crypto.ConversationKey.generate()
    message_id = uuid.uuid4()
    sealed = crypto.seal_text("intrusion", key, conversation, epoch, outsider.identity, message_id)
    envelope = crypto.wrap_conversation_key(
        key, conversation, epoch + 1, outsider.identity.public, outsider.identity, now_ms()
    )
    target = str(conversation)
    return {
        "send": {
            "type": "send",
            "conversation": target,
            "client_message_id": str(message_id),
            "epoch": epoch,
            "ciphertext": crypto.b64encode(sealed),
        },
        "sync": {"type": "sync", "after": {target: 0}},
        "history": {"type": "history", "conversation": target},
        "read": {"type": "read", "conversation": target, "seq": 1},
        "typing": {"type": "typing", "conversation": target},
        "rekey": {
            "type": "rekey",
            "conversation": target,
            "epoch": epoch + 1,
            "envelopes": [
                {"recipient": outsider.account.id, "envelope": crypto.b64encode(envelope)}
            ],
        },
    }


@pytest.mark.parametrize("who", ["other_client", "other_therapist", "admin"])
async def test_an_outsider_gets_not_found_for_every_request_and_changes_nothing(
    who: str, server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    conversation = personas.conversation
    # Without backfill the member holds everything stored so far: any message that
    # arrives later was stored later.
    member = await open_client(server.url, personas.therapist, backfill=False)
    await member.connect()
    before = await member.conversation(conversation)
    held = member.position(conversation)
    assert held == before.last_seq

    outsider_persona: LivePersona = getattr(personas, who)
    outsider = await open_client(server.url, outsider_persona)
    with pytest.raises(NotFoundError):
        await outsider.conversation(conversation)
    assert conversation not in {c.id for c in await outsider.conversations()}
    await outsider.connect()

    refused = {}
    for kind, frame in _frames(outsider, conversation, before.current_epoch).items():
        with pytest.raises(NotFoundError) as caught:
            await outsider.call(frame, timeout=5)
        refused[kind] = caught.value.code
    assert refused == dict.fromkeys(KINDS, "not_found")

    # The member sees no message, no read receipt, no typing, no new epoch.
    await member.sync()
    assert await nothing_more(member)
    assert member.position(conversation) == held
    assert await no_event_of(member, Typing, 0.2)
    assert await no_event_of(member, ReadReceipt, 0.2)
    after = await member.conversation(conversation)
    assert (after.last_seq, after.current_epoch, after.read_seqs) == (
        before.last_seq,
        before.current_epoch,
        before.read_seqs,
    )


async def test_a_signed_out_visitor_or_another_site_is_refused(
    server: LiveServer, personas: LivePersonas
) -> None:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as anonymous:
        detail = await anonymous.get(f"/api/conversations/{personas.conversation}")
        listing = await anonymous.get("/api/conversations")
    for response in (detail, listing):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == UnauthenticatedError.code

    url = server.url.replace("http://", "ws://") + "/ws"
    async with connect(url, additional_headers={"Origin": server.url}, proxy=None) as socket:
        with pytest.raises(ConnectionClosed):
            await socket.recv()
        assert socket.close_code == 4401

    # A socket with no Origin, or another site's, is refused at the handshake.
    for headers in ({}, {"Origin": "http://elsewhere.example"}):
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, additional_headers=headers, proxy=None)
        assert refused.value.response.status_code == 403
