"""The peers' identities a person saw and verified are kept in their pin record on the
server, sealed for them (crypto/SPEC.md, "Pins"), so that a key the server serves after
the next sign-in, on another computer with no file of its own, is still compared with them.
Here the server substitutes the therapist's key in its database, as a compromised server
could, between two sign-ins of the client."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest

from confide_client import ConfideClient, PeerKeyChanged, VerifiedKeyChangedError
from crypto import IdentityKeyPair
from harness.servers import LiveServer, Stack
from tests.integration.helpers import event_of, stored_identity
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]


@pytest.fixture
def substitute(stack: Stack, personas: LivePersonas) -> Iterator[Callable[[], None]]:
    """Puts another identity in the therapist's place in the server's database; the real
    one is put back after the test (the therapist persona is shared)."""
    impostor = IdentityKeyPair.generate().public.to_bytes()
    therapist = personas.therapist
    real = stored_identity(stack, therapist.user_id)

    def swap() -> None:
        stack.execute(
            "UPDATE accounts_user SET public_identity = ? WHERE id = ?", impostor, therapist.user_id
        )

    yield swap
    stack.execute(
        "UPDATE accounts_user SET public_identity = ? WHERE id = ?", real, therapist.user_id
    )


async def _listed(open_client: OpenClient, url: str, persona: LivePersona) -> ConfideClient:
    """A client on a computer of its own (no identity file), signed in, its conversations
    listed (so its peers are compared with the pins, and pinned when new)."""
    client = await open_client(url, persona, backfill=False)
    await client.conversations()
    return client


async def _leave(client: ConfideClient) -> None:
    await client.flush_pins()
    await client.close()


async def test_a_verified_key_substituted_between_sign_ins_holds_the_conversation(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    substitute: Callable[[], None],
) -> None:
    client_persona, conversation = await new_pair()
    therapist_id = personas.therapist.user_id
    first = await _listed(open_client, server.url, client_persona)
    assert not first.is_verified(conversation, therapist_id)
    first.verify_peer(conversation, therapist_id)
    assert first.is_verified(conversation, therapist_id)
    await _leave(first)

    substitute()

    # Another computer, nothing of its own: the record on the server remembers.
    again = await _listed(open_client, server.url, client_persona)
    changed = await event_of(again, PeerKeyChanged)
    assert (changed.conversation, changed.user_id, changed.verified) == (
        conversation,
        therapist_id,
        True,
    )
    await again.connect()
    with pytest.raises(VerifiedKeyChangedError) as held:
        await again.send_text(conversation, "Nothing goes to a key nobody compared.")
    assert held.value.code == "verified_key_changed"
    assert len(again.outbox) == 0, "nothing was sealed"
    assert not again.is_verified(conversation, therapist_id)

    # Accepting the new key without comparing releases the conversation, unverified.
    again.accept_peer_key(conversation, therapist_id)
    assert await again.send_text(conversation, "Accepted, so it goes.") >= 1
    assert not again.is_verified(conversation, therapist_id)


async def test_a_seen_key_substituted_between_sign_ins_is_reported(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    substitute: Callable[[], None],
) -> None:
    client_persona, conversation = await new_pair()
    await _leave(await _listed(open_client, server.url, client_persona))

    substitute()

    again = await _listed(open_client, server.url, client_persona)
    changed = await event_of(again, PeerKeyChanged)
    assert (changed.user_id, changed.verified) == (personas.therapist.user_id, False)
    # Reported once, and not a reason to hold anything.
    await again.conversations()
    await again.connect()
    assert await again.send_text(conversation, "A calm warning; nothing held.") >= 1


async def test_an_altered_record_is_said_and_replaced(
    server: LiveServer,
    stack: Stack,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    client_persona, _conversation = await new_pair()
    await _leave(await _listed(open_client, server.url, client_persona))
    stack.execute(
        "UPDATE accounts_pinrecord SET record = ? WHERE user_id = ?",
        b"\x01" + bytes(84),
        client_persona.user_id,
    )

    again = await open_client(server.url, client_persona, backfill=False)
    assert again.pins_unreadable
    await again.conversations()
    await again.flush_pins()
    third = await open_client(server.url, client_persona, backfill=False)
    assert not third.pins_unreadable
