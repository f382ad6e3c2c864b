"""An epoch's version-2 envelope signs when it began (crypto/SPEC.md, "Version 2: the
epoch's time and key, signed"), so a client takes its age from that, not from what the
server reports: an epoch signed eight days old is not written in, a new one begins first.
Here the therapist's client makes the epoch with its clock set eight days back; to the
server it began just now, as a server presenting an old epoch as current would say."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import pytest

import crypto
from confide_client import ConfideClient
from confide_client import client as client_module
from harness.servers import LiveServer, Stack
from tests.integration.helpers import stored_ciphertexts
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]
DAY_MS = 86_400_000


async def test_an_epoch_signed_eight_days_old_is_replaced_before_writing(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_persona, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    eight_days_ago = time.time_ns() // 1_000_000 - 8 * DAY_MS
    with monkeypatch.context() as clock:
        clock.setattr(client_module, "_now_ms", lambda: eight_days_ago)
        assert await therapist.rekey(conversation) == 1

    client = await open_client(server.url, client_persona, backfill=False)
    await client.connect()
    (listed,) = [c for c in await client.conversations() if c.id == conversation]
    assert listed.current_epoch == 1
    seq = await client.send_text(conversation, "Not under the old epoch's key.")

    wire = stored_ciphertexts(stack, conversation)[seq - 1]
    assert crypto.parse_message(wire).epoch == 2, "a new epoch began first"


async def test_an_epoch_signed_an_hour_ago_is_written_in(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    client_persona, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    assert await therapist.rekey(conversation) == 1
    client = await open_client(server.url, client_persona, backfill=False)
    await client.connect()
    seq = await client.send_text(conversation, "Under the current key.")
    assert crypto.parse_message(stored_ciphertexts(stack, conversation)[seq - 1]).epoch == 1
