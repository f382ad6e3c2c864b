"""The outbox keeps each sealed message until the server's ack names it, settles its
future once, and ignores acks it has no message for."""

from __future__ import annotations

import uuid

import pytest

from confide_client.errors import BadCiphertextError, ClientClosedError
from confide_client.outbox import Ack, Outbox

CONVERSATION = uuid.uuid4()


def _add(outbox: Outbox, text: str = "hello") -> tuple[uuid.UUID, Outbox]:
    message_id = uuid.uuid4()
    outbox.add(CONVERSATION, message_id, 0, b"sealed:" + text.encode(), text)
    return message_id, outbox


async def test_messages_wait_in_the_order_they_were_written() -> None:
    outbox = Outbox()
    first, _ = _add(outbox, "one")
    second, _ = _add(outbox, "two")
    assert [entry.client_message_id for entry in outbox.pending()] == [first, second]
    assert len(outbox) == 2


async def test_an_ack_settles_its_message_and_removes_it() -> None:
    outbox = Outbox()
    message_id, _ = _add(outbox)
    entry = outbox.pending()[0]
    ack = Ack(CONVERSATION, message_id, seq=4, duplicate=False)
    assert outbox.acknowledge(ack) is entry
    assert (await entry.acked).seq == 4
    assert len(outbox) == 0
    assert (outbox.acked, outbox.duplicate_acks) == (1, 0)


async def test_a_second_or_unknown_ack_changes_nothing() -> None:
    outbox = Outbox()
    message_id, _ = _add(outbox)
    other, _ = _add(outbox)
    outbox.acknowledge(Ack(CONVERSATION, message_id, seq=1, duplicate=False))
    assert outbox.acknowledge(Ack(CONVERSATION, message_id, seq=1, duplicate=True)) is None
    assert outbox.acknowledge(Ack(uuid.uuid4(), other, seq=9, duplicate=False)) is None
    assert [entry.client_message_id for entry in outbox.pending()] == [other]
    assert outbox.acked == 1


async def test_a_client_message_id_cannot_wait_twice() -> None:
    outbox = Outbox()
    message_id, _ = _add(outbox)
    with pytest.raises(ValueError, match="already waiting"):
        outbox.add(CONVERSATION, message_id, 0, b"other bytes", "other")


async def test_a_refused_message_raises_for_its_sender_and_leaves_the_outbox() -> None:
    outbox = Outbox()
    _add(outbox)
    entry = outbox.pending()[0]
    outbox.fail(entry, BadCiphertextError("no"))
    with pytest.raises(BadCiphertextError):
        await entry.acked
    assert len(outbox) == 0


async def test_closing_settles_every_waiting_message() -> None:
    outbox = Outbox()
    _add(outbox)
    _add(outbox)
    entries = outbox.pending()
    outbox.fail_all(ClientClosedError("closed"))
    for entry in entries:
        with pytest.raises(ClientClosedError):
            await entry.acked
    assert len(outbox) == 0


async def test_resealing_keeps_the_client_message_id() -> None:
    outbox = Outbox()
    message_id, _ = _add(outbox)
    entry = outbox.pending()[0]
    entry.reseal(1, b"new bytes")
    frame = entry.frame()
    assert (frame.client_message_id, frame.epoch) == (message_id, 1)
    assert entry.reseals == 1


async def test_the_outbox_never_shows_text_or_ciphertext() -> None:
    outbox = Outbox()
    _add(outbox, "a private thought")
    shown = repr(outbox.pending()[0])
    assert "a private thought" not in shown
    assert "sealed" not in shown
