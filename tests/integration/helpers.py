"""Small waits used by the integration tests, each bounded in time."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from typing import Any, TypeVar

from confide_client import ClientEvent, ConfideClient, OrderWarning, ReceivedMessage
from harness.servers import Stack

E = TypeVar("E", bound=ClientEvent)


async def messages_from(
    client: ConfideClient, sender_id: int, count: int, timeout: float = 10.0
) -> list[ReceivedMessage]:
    """The next ``count`` messages sent by ``sender_id`` (others are skipped)."""
    deadline = time.monotonic() + timeout
    found: list[ReceivedMessage] = []
    while len(found) < count:
        message = await client.next_message(max(deadline - time.monotonic(), 0.001))
        if message.sender_id == sender_id:
            found.append(message)
    return found


async def messages_in(
    client: ConfideClient, conversation: uuid.UUID, count: int, timeout: float = 10.0
) -> list[ReceivedMessage]:
    """The next ``count`` messages of one conversation (a persona's others are skipped)."""
    deadline = time.monotonic() + timeout
    found: list[ReceivedMessage] = []
    while len(found) < count:
        message = await client.next_message(max(deadline - time.monotonic(), 0.001))
        if message.conversation == conversation:
            found.append(message)
    return found


async def messages_until(
    client: ConfideClient, seq: int, timeout: float = 10.0
) -> list[ReceivedMessage]:
    """Every message the client delivers until one with sequence number ``seq``."""
    deadline = time.monotonic() + timeout
    found: list[ReceivedMessage] = []
    while not found or found[-1].seq < seq:
        found.append(await client.next_message(max(deadline - time.monotonic(), 0.001)))
    return found


async def event_of(client: ConfideClient, kind: type[E], timeout: float = 5.0) -> E:
    """The next event of one kind (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        event = await client.next_event(max(deadline - time.monotonic(), 0.001))
        if isinstance(event, kind):
            return event


async def nothing_more(client: ConfideClient, within: float = 0.5) -> bool:
    """Whether no further message arrives within ``within`` seconds."""
    try:
        await client.next_message(within)
    except TimeoutError:
        return True
    return False


async def no_event_of(client: ConfideClient, kind: type[ClientEvent], within: float) -> bool:
    """Whether no event of this kind arrives within ``within`` seconds."""
    try:
        await event_of(client, kind, within)
    except TimeoutError:
        return True
    return False


async def order_warnings(
    client: ConfideClient, conversation: uuid.UUID, within: float, expected: int | None = None
) -> list[OrderWarning]:
    """The order warnings about one conversation that arrive within ``within`` seconds
    (a persona's other conversations may have warnings of their own); with ``expected``,
    those that arrive until that many have, and for half a second more."""
    found: list[OrderWarning] = []
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        if expected is not None and len(found) >= expected:
            deadline = min(deadline, time.monotonic() + 0.5)
            expected = None
            continue
        try:
            event = await client.next_event(left)
        except TimeoutError:
            break
        if isinstance(event, OrderWarning) and event.conversation == conversation:
            found.append(event)
    return found


async def send_paced(
    sender: ConfideClient, conversation: uuid.UUID, texts: list[str], pause: float
) -> list[int]:
    """Sends each text once the previous one is acknowledged, ``pause`` seconds apart;
    returns their sequence numbers."""
    seqs = []
    for text in texts:
        seqs.append(await sender.send_text(conversation, text, timeout=30))
        await asyncio.sleep(pause)
    return seqs


_STORED = (
    "SELECT seq, client_message_id FROM messaging_message WHERE conversation_id = {} ORDER BY seq"
)


def _stored(stack: Stack, conversation: uuid.UUID, columns: str) -> list[tuple[Any, ...]]:
    statement = _STORED.replace("seq, client_message_id", columns)
    if stack.database_url is None:
        path = f"file:{stack.sqlite_path}?mode=ro"
        with sqlite3.connect(path, uri=True) as database:
            return database.execute(statement.format("?"), (conversation.hex,)).fetchall()
    import psycopg

    with psycopg.connect(stack.database_url) as connection:
        return connection.execute(statement.format("%s"), (conversation,)).fetchall()


def stored_identity(stack: Stack, user_id: int) -> bytes:
    """A user's public identity as the stack's database holds it."""
    value = stack.query_one("SELECT public_identity FROM accounts_user WHERE id = ?", user_id)
    return bytes(value)


def stored_messages(stack: Stack, conversation: uuid.UUID) -> list[tuple[int, uuid.UUID]]:
    """(seq, client message id) of every message of the conversation in the stack's
    database, read directly, in sequence order."""
    rows = _stored(stack, conversation, "seq, client_message_id")
    return [(int(seq), uuid.UUID(str(cmid))) for seq, cmid in rows]


def stored_ciphertexts(stack: Stack, conversation: uuid.UUID) -> list[bytes]:
    """The sealed bytes of every message of the conversation, in sequence order."""
    return [bytes(row[0]) for row in _stored(stack, conversation, "ciphertext")]


__all__ = [
    "messages_in",
    "stored_identity",
    "order_warnings",
    "stored_ciphertexts",
    "event_of",
    "messages_from",
    "messages_until",
    "no_event_of",
    "nothing_more",
    "send_paced",
    "stored_messages",
]
