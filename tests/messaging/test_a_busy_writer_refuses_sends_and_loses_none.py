"""When more sends wait for the database than the server holds, each send beyond that is
refused at once with ``overloaded`` (its ref and ``retry_after_ms``), never left
unanswered; what was acknowledged is exactly what is stored, and each refused message,
resent later, is stored once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from channels.db import database_sync_to_async

from messaging.models import Message
from messaging.services import messages
from tests.messaging.conftest import Connect, Socket
from tests.messaging.test_send_and_ack import send_frame
from tests.personas import Practice5

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(40)]

SENDS_PER_SOCKET = 6
MAX_PENDING = 3


async def replies_to(socket: Socket, refs: set[str], timeout: float = 10.0) -> dict[str, Any]:
    """The one reply to each ref (pushes and other frames skipped); fails on silence."""
    replies: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    while set(replies) != refs:
        frame = await socket.receive(timeout=max(deadline - time.monotonic(), 0.01))
        ref = frame.get("ref")
        if ref in refs:
            assert ref not in replies, f"two replies to {ref}"
            replies[ref] = frame
    return replies


async def stored_ids() -> list[str]:
    ids: list[uuid.UUID] = await database_sync_to_async(
        lambda: list(Message.objects.values_list("client_message_id", flat=True))
    )()
    return [str(i) for i in ids]


async def stored_seqs() -> dict[str, list[int]]:
    rows = await database_sync_to_async(
        lambda: list(Message.objects.order_by("seq").values_list("conversation_id", "seq"))
    )()
    seqs: dict[str, list[int]] = {}
    for conversation, seq in rows:
        seqs.setdefault(str(conversation), []).append(seq)
    return seqs


async def test_a_burst_beyond_max_pending_is_acked_or_refused_and_resends_store_once(
    world: Practice5, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = messages.sending().writer
    store = writer.store

    def slow_store(requests: Sequence[Any]) -> Any:
        time.sleep(0.2)  # a slow commit: the burst arrives while it runs
        return store(requests)

    monkeypatch.setattr(writer, "max_pending", MAX_PENDING)
    monkeypatch.setattr(writer, "store", slow_store)

    senders = [
        (world.client, world.chat),
        (world.therapist, world.chat),
        (world.other_client, world.other_chat),
        (world.other_therapist, world.other_chat),
    ]
    sockets = [await connect(person) for person, _ in senders]
    frames: dict[str, dict[str, Any]] = {}
    by_socket: list[set[str]] = []
    for index, (person, chat) in enumerate(senders):
        refs = set()
        for n in range(SENDS_PER_SOCKET):
            message_id, wire = chat.seal(person, f"burst {index}.{n}")
            ref = f"s{index}-{n}"
            frames[ref] = {"ref": ref, **send_frame(chat.id, message_id, wire)}
            refs.add(ref)
        by_socket.append(refs)
    # Every frame of every socket is sent before any reply is read.
    for socket, refs in zip(sockets, by_socket, strict=True):
        for ref in sorted(refs):
            await socket.send(frames[ref])

    replies: dict[str, Any] = {}
    for socket, refs in zip(sockets, by_socket, strict=True):
        replies.update(await replies_to(socket, refs))
    acked = {ref for ref, reply in replies.items() if reply["type"] == "ack"}
    refused = set(replies) - acked
    assert acked
    assert refused
    for ref in refused:
        reply = replies[ref]
        assert reply["type"] == "error"
        assert reply["code"] == "overloaded"
        assert reply["ref"] == ref
        assert isinstance(reply["retry_after_ms"], int)
        assert reply["retry_after_ms"] > 0
    for ref in acked:
        assert replies[ref]["client_message_id"] == frames[ref]["client_message_id"]
    for refs in by_socket:  # what one socket sent is numbered in the order it was sent
        seqs = [replies[ref]["seq"] for ref in sorted(refs & acked)]
        assert seqs == sorted(seqs)
    assert sorted(await stored_ids()) == sorted(frames[ref]["client_message_id"] for ref in acked)

    # Later, once the database keeps up again, each refused message is resent (same id,
    # same bytes) and stored once.
    monkeypatch.setattr(writer, "store", store)
    for socket, refs in zip(sockets, by_socket, strict=True):
        for ref in sorted(refs & refused):
            reply = await socket.request(frames[ref], timeout=5)
            assert reply["type"] == "ack", reply
            assert reply["duplicate"] is False
        for ref in sorted(refs & acked)[:1]:
            assert (await socket.request(frames[ref], timeout=5))["duplicate"] is True
    assert sorted(await stored_ids()) == sorted(
        frame["client_message_id"] for frame in frames.values()
    )
    per_conversation = 2 * SENDS_PER_SOCKET
    assert await stored_seqs() == {
        str(world.chat.id): list(range(1, per_conversation + 1)),
        str(world.other_chat.id): list(range(1, per_conversation + 1)),
    }
