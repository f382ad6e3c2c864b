"""Each pin record carries a counter sealed with it (crypto/SPEC.md, "Pins"); the Python
client keeps the highest it saw, in its state folder when it has one, so a server that
serves an older record of the person's own making (from before a verification, say) is
noticed: during a run, and at the next sign-in on the same computer. Here the server's
database is rolled back to an earlier record, as a compromised server could."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from confide_client import ConfideClient, StateFolder
from harness.servers import LiveServer, Stack
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]


def _record(stack: Stack, user_id: int) -> tuple[bytes, int]:
    where = "FROM accounts_pinrecord WHERE user_id = ?"
    record = bytes(stack.query_one(f"SELECT record {where}", user_id))
    return record, int(stack.query_one(f"SELECT counter {where}", user_id))


def _roll_back(stack: Stack, user_id: int, to: tuple[bytes, int]) -> None:
    stack.execute(
        "UPDATE accounts_pinrecord SET record = ?, counter = ? WHERE user_id = ?",
        to[0],
        to[1],
        user_id,
    )


async def test_a_record_older_than_one_seen_on_this_computer_is_noticed(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    therapist_id = personas.therapist.user_id
    folder = tmp_path / "state"

    first = await open_client(server.url, client_persona, state=StateFolder(folder))
    await first.conversations()
    await first.flush_pins()
    seen_only = _record(stack, client_persona.user_id)
    first.verify_peer(conversation, therapist_id)
    await first.flush_pins()
    assert _record(stack, client_persona.user_id)[1] == seen_only[1] + 1
    await first.close()

    _roll_back(stack, client_persona.user_id, seen_only)

    # The same computer: the state folder remembers the newer record.
    again = await open_client(server.url, client_persona, state=StateFolder(folder))
    assert again.pins_rolled_back
    await again.conversations()
    assert not again.is_verified(conversation, therapist_id), "the record served lacks it"
    # Another computer, with nothing of its own, cannot tell (docs/threat-model.md).
    elsewhere = await open_client(server.url, client_persona)
    assert not elsewhere.pins_rolled_back


async def test_a_record_rolled_back_during_a_run_is_noticed_and_not_written_over(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    client_persona, conversation = await new_pair()
    therapist_id = personas.therapist.user_id
    client = await open_client(server.url, client_persona)
    await client.conversations()
    await client.flush_pins()
    seen_only = _record(stack, client_persona.user_id)
    client.verify_peer(conversation, therapist_id)
    await client.flush_pins()
    verified = _record(stack, client_persona.user_id)
    assert not client.pins_rolled_back

    _roll_back(stack, client_persona.user_id, seen_only)
    # The next change finds an older record in place of the one it wrote: refused, said,
    # and the older record is not written over with a counter that went back.
    client.accept_peer_key(conversation, therapist_id)
    await client.flush_pins()
    assert client.pins_rolled_back
    assert _record(stack, client_persona.user_id) == seen_only
    assert verified[1] > seen_only[1]
