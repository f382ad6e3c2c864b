"""Epoch keys are wrapped with X-Wing to identities that hold an X-Wing key (crypto/SPEC.md,
"Version 3: wrapped with X-Wing"), so a copy of the database kept for a future quantum
computer does not open them. An account made before that publishes the X-Wing key of its
same keys at its next sign-in, and the next epoch is wrapped with it; a server that hands a
wrapper the older identity gets a key wrapped with X25519 alone, which the recipient
refuses. Here the server's database plays the compromised server: it serves the version-1
form of the client's identity, which the client signed itself before."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import crypto
from confide_client import (
    ConfideClient,
    KeyDowngradeRefused,
    PeerKeyChanged,
    ServerRefusedError,
    StateFolder,
)
from confide_client import client as client_module
from crypto import IdentityKeyPair, PublicIdentity
from harness.servers import LiveServer, Stack
from tests.integration.helpers import event_of, no_event_of, stored_ciphertexts, stored_identity
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
TEN_MINUTES_MS = 10 * 60 * 1000
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]


def envelope_version(stack: Stack, conversation: uuid.UUID, epoch: int, recipient: int) -> int:
    envelope = stack.query_one(
        "SELECT envelope FROM messaging_keyenvelope "
        "WHERE conversation_id = ? AND epoch = ? AND recipient_id = ?",
        conversation,
        epoch,
        recipient,
    )
    return bytes(envelope)[0]


def serve_identity(stack: Stack, user_id: int, identity: bytes) -> None:
    stack.execute("UPDATE accounts_user SET public_identity = ? WHERE id = ?", identity, user_id)


async def version_1_form(open_client: OpenClient, url: str, persona: LivePersona) -> bytes:
    """The version-1 identity of the persona's own keys, as it was published before."""
    client = await open_client(url, persona, backfill=False)
    assert client.identity.public.version == 2, "every new account holds an X-Wing key"
    form = IdentityKeyPair(client.identity._secret_material()).public.to_bytes()
    await client.close()
    return form


async def test_an_account_from_before_publishes_its_x_wing_key_and_the_next_epoch_uses_it(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    client_persona, conversation = await new_pair()
    old = await version_1_form(open_client, server.url, client_persona)
    serve_identity(stack, client_persona.user_id, old)
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    assert await therapist.rekey(conversation) == 1
    # To an identity of version 1, X25519 alone; to the therapist's, X-Wing.
    assert envelope_version(stack, conversation, 1, client_persona.user_id) == 2
    assert envelope_version(stack, conversation, 1, personas.therapist.user_id) == 3
    before_seq = await therapist.send_text(conversation, "Written before the X-Wing key.")

    before = time.time() * 1000
    client = await open_client(server.url, client_persona, backfill=False)
    published = PublicIdentity.from_bytes(stored_identity(stack, client_persona.user_id))
    assert published.version == 2
    assert client.account is not None
    assert published == client.identity.public == client.account.identity
    assert published.fingerprint() == PublicIdentity.from_bytes(old).fingerprint()
    assert published.since is not None and before - 1000 <= published.since <= time.time() * 1000

    await client.connect()
    # The history wrapped with X25519 alone stays readable.
    earlier = await client.history(conversation)
    assert [(m.seq, m.text) for m in earlier.messages] == [
        (before_seq, "Written before the X-Wing key.")
    ]
    seq = await client.send_text(conversation, "Under keys a quantum computer cannot open.")
    wire = stored_ciphertexts(stack, conversation)[seq - 1]
    assert crypto.parse_message(wire).epoch == 2, "an X-Wing epoch began first"
    for member in (client_persona.user_id, personas.therapist.user_id):
        assert envelope_version(stack, conversation, 2, member) == 3

    # The same fingerprint: the therapist is told of no change of keys, and reads it.
    await therapist.conversations()
    assert await no_event_of(therapist, PeerKeyChanged, within=0.5)
    page = await therapist.history(conversation)
    assert [m.text for m in page.messages] == [
        "Written before the X-Wing key.",
        "Under keys a quantum computer cannot open.",
    ]


async def test_a_key_wrapped_without_x_wing_after_the_identity_held_one_is_refused(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_persona, conversation = await new_pair()
    old = await version_1_form(open_client, server.url, client_persona)
    real = stored_identity(stack, client_persona.user_id)
    client = await open_client(server.url, client_persona, backfill=False)
    await client.connect()

    serve_identity(stack, client_persona.user_id, old)
    try:
        therapist = await open_client(server.url, personas.therapist, backfill=False)
        await therapist.connect()
        # Ten minutes after the client's identity held its X-Wing key: past the grace for
        # clocks that differ (crypto/SPEC.md, "Version 3").
        with monkeypatch.context() as clock:
            clock.setattr(
                client_module, "_now_ms", lambda: time.time_ns() // 1_000_000 + TEN_MINUTES_MS
            )
            assert await therapist.rekey(conversation) == 1
    finally:
        serve_identity(stack, client_persona.user_id, real)
    assert envelope_version(stack, conversation, 1, client_persona.user_id) == 2

    refused = await event_of(client, KeyDowngradeRefused)
    assert (refused.conversation, refused.epoch, refused.wrapper) == (
        conversation,
        1,
        personas.therapist.user_id,
    )
    # Listing again refuses it again, and says nothing more.
    await client.conversations()
    assert await no_event_of(client, KeyDowngradeRefused, within=0.3)

    # Nothing is written under the refused key: a new epoch, wrapped with X-Wing, first.
    seq = await client.send_text(conversation, "Not under a key the server could harvest.")
    wire = stored_ciphertexts(stack, conversation)[seq - 1]
    assert crypto.parse_message(wire).epoch == 2
    assert envelope_version(stack, conversation, 2, client_persona.user_id) == 3


async def test_a_client_with_a_state_folder_keeps_the_x_wing_forms_it_saw(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    """The server serves the version-1 form again, to the client itself and to its
    therapist: neither takes it in place of the X-Wing form it saw before."""
    client_persona, conversation = await new_pair()
    old = await version_1_form(open_client, server.url, client_persona)
    real = stored_identity(stack, client_persona.user_id)
    therapist_folder = tmp_path / "therapist"
    therapist = await open_client(
        server.url, personas.therapist, backfill=False, state=StateFolder(therapist_folder)
    )
    await therapist.conversations()  # sees the client's X-Wing form
    await therapist.close()
    client_folder = tmp_path / "client"
    first = await open_client(server.url, client_persona, state=StateFolder(client_folder))
    await first.close()

    serve_identity(stack, client_persona.user_id, old)
    try:
        # The client keeps its own X-Wing form, so the downgrade check stays on.
        client = await open_client(server.url, client_persona, state=StateFolder(client_folder))
        assert client.identity.public.to_bytes() == real
        # The therapist wraps to the X-Wing form it saw, never to the one served now; the
        # server, holding the older form, refuses the epoch, and nothing begins.
        therapist = await open_client(
            server.url, personas.therapist, backfill=False, state=StateFolder(therapist_folder)
        )
        await therapist.connect()
        with pytest.raises(ServerRefusedError) as refused:
            await therapist.rekey(conversation)
        assert refused.value.code == "bad_envelopes"
    finally:
        serve_identity(stack, client_persona.user_id, real)
    assert (
        stack.query_one(
            "SELECT current_epoch FROM messaging_conversation WHERE id = ?", conversation
        )
        == 0
    )
