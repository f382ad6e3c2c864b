"""Assisted recovery over the sockets: a client's request reaches their therapist's sockets
as ``recovery_requested`` and changes nothing else (the client's own sockets stay open);
the confirmation closes every socket of the client with 4001 (their secret changed) and
tells the therapist's sockets, and those of the client's other therapists, that the
client's identity changed by a recovery the therapist confirmed. Nobody else hears of
either."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from crypto import PublicIdentity
from protocol.errors import CloseCode
from tests.http.assisted import ask, confirm, pending_of, rewrap
from tests.http.conftest import Browser
from tests.messaging.conftest import Connect
from tests.personas import Practice5, make_chat

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = {"type": "websocket.close", "code": CloseCode.SESSION_ENDED}


async def test_the_request_reaches_the_therapist_and_the_confirmation_ends_the_clients_sockets(
    world: Practice5, connect: Connect
) -> None:
    await database_sync_to_async(make_chat)(world.practice, world.other_therapist, world.client)
    laptop = await connect(world.client)
    theo = await connect(world.therapist)
    olive = await connect(world.other_therapist)
    oscar = await connect(world.other_client)

    def request() -> int:
        asked = ask(world.client.user.email)
        return pending_of(world.client).pk if asked.reply.status == 200 else 0

    recovery_id = await database_sync_to_async(request)()

    assert await theo.receive_type("recovery_requested") == {
        "type": "recovery_requested",
        "recovery": recovery_id,
    }
    assert (await olive.receive_type("recovery_requested"))["recovery"] == recovery_id
    assert (await laptop.request({"type": "ping"}))["type"] == "pong"

    def confirm_as_theo() -> int:
        recovery = pending_of(world.client)
        identity = PublicIdentity.from_bytes(bytes(recovery.public_identity))
        envelopes = rewrap(world.therapist, world.chat.id, identity)
        return confirm(
            Browser().sign_in_as(world.therapist), recovery.pk, envelopes, by=world.therapist
        ).status

    assert await database_sync_to_async(confirm_as_theo)() == 200

    changed = {
        "type": "identity_changed",
        "user": world.client.id,
        "reason": "recovery",
        "confirmed_by": world.therapist.id,
    }
    assert await theo.receive_type("identity_changed") == changed
    assert await olive.receive_type("identity_changed") == changed
    while (frame := await laptop.communicator.receive_output(timeout=2))["type"] != (
        "websocket.close"
    ):
        pass
    assert frame == CLOSED
    assert await oscar.nothing()
    assert (await theo.request({"type": "ping"}))["type"] == "pong"
