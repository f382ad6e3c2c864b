"""Recovering an account with its recovery key replaces its authentication secret, which
ends every session of the account: each of its open sockets is closed with 4001, whatever
browser it was opened in, and nobody else's is."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

import crypto
from protocol.errors import CloseCode
from tests.http.conftest import Browser
from tests.http.recovery import (
    FINISH,
    begin,
    finish_body,
    give_recovery_key,
    material_for,
    recover,
)
from tests.messaging.conftest import Connect
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = {"type": "websocket.close", "code": CloseCode.SESSION_ENDED}


async def test_a_recovery_closes_every_socket_of_the_account_and_no_other(
    world: Practice5, connect: Connect
) -> None:
    laptop = await connect(world.client)
    phone = await connect(world.client)
    theo = await connect(world.therapist)

    def recover_in_a_new_browser() -> int:
        key = give_recovery_key(world.client)
        reply, _ = recover(Browser(), world.client.user.email, key)
        return reply.status

    assert await database_sync_to_async(recover_in_a_new_browser)() == 200

    assert await laptop.communicator.receive_output(timeout=2) == CLOSED
    assert await phone.communicator.receive_output(timeout=2) == CLOSED
    assert (await theo.request({"type": "ping"}))["type"] == "pong"


async def test_a_refused_recovery_closes_nothing(world: Practice5, connect: Connect) -> None:
    laptop = await connect(world.client)

    def finish_with_a_flipped_proof() -> int:
        key = give_recovery_key(world.client)
        email = world.client.user.email
        browser = Browser()
        material = material_for(begin(browser, email), key, email)
        proof = bytearray(material.proof)
        proof[0] ^= 1
        body = finish_body(material, proof=crypto.b64encode(bytes(proof)))
        return browser.post(FINISH, body).status

    assert await database_sync_to_async(finish_with_a_flipped_proof)() == 403

    assert (await laptop.request({"type": "ping"}))["type"] == "pong"
