"""The inbox turns overlapping, out-of-order arrivals (pushes, sync and history pages)
into one ordered stream per conversation, asks for a sync when a number skips ahead, and
counts a message that fails to open as held without delivering it."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

import crypto
from confide_client.inbox import Inbox
from confide_client.records import ReceivedMessage
from confide_client.wire import MessageData

SENDER = 7


def _stored(conversation: uuid.UUID, seq: int, body: bytes | None = None) -> MessageData:
    return MessageData(
        conversation=conversation,
        seq=seq,
        client_message_id=uuid.uuid4(),
        epoch=0,
        sender=SENDER,
        ciphertext=body if body is not None else f"text {seq}".encode(),
        sent_at=datetime.now(UTC),
    )


class Recorder:
    """Stands in for the client: "opens" a message by reading its bytes as text."""

    def __init__(self) -> None:
        self.opened: list[int] = []
        self.syncs: list[uuid.UUID] = []

    async def open(self, data: MessageData) -> ReceivedMessage | None:
        self.opened.append(data.seq)
        if data.ciphertext == b"forged":
            return None
        return ReceivedMessage(
            conversation=data.conversation,
            seq=data.seq,
            sender_id=data.sender,
            text=data.ciphertext.decode(errors="replace"),
            sent_at=data.sent_at,
            client_message_id=data.client_message_id,
        )

    def sync(self, conversation: uuid.UUID) -> None:
        self.syncs.append(conversation)


def _drain(inbox: Inbox) -> list[tuple[int, str]]:
    out = []
    while not inbox.messages.empty():
        message = inbox.messages.get_nowait()
        out.append((message.seq, message.text))
    return out


async def test_duplicates_and_reordering_become_one_ordered_stream() -> None:
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation = uuid.uuid4()
    for seq in (2, 1, 1, 3, 2, 5, 4, 5):
        await inbox.accept(_stored(conversation, seq))
    assert _drain(inbox) == [(n, f"text {n}") for n in range(1, 6)]
    assert recorder.opened == [1, 2, 3, 4, 5]  # each opened once
    assert inbox.position(conversation) == 5


async def test_a_number_that_skips_ahead_asks_for_a_sync_of_that_conversation() -> None:
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation, other = uuid.uuid4(), uuid.uuid4()
    await inbox.accept(_stored(conversation, 1))
    await inbox.accept(_stored(other, 1))
    assert recorder.syncs == []
    await inbox.accept(_stored(conversation, 3))
    assert recorder.syncs == [conversation]
    assert inbox.has_gap(conversation) and not inbox.has_gap(other)
    assert inbox.positions() == {conversation: 1, other: 1}


async def test_a_message_that_does_not_open_is_held_but_not_delivered() -> None:
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation = uuid.uuid4()
    await inbox.accept(_stored(conversation, 1))
    await inbox.accept(_stored(conversation, 2, b"forged"))
    await inbox.accept(_stored(conversation, 3))
    assert _drain(inbox) == [(1, "text 1"), (3, "text 3")]
    assert inbox.position(conversation) == 3
    assert recorder.syncs == []  # not fetched again and again


async def test_a_conversation_followed_from_a_position_ignores_what_came_before() -> None:
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation = uuid.uuid4()
    inbox.track(conversation, 4)
    await inbox.accept(_stored(conversation, 3))
    await inbox.accept(_stored(conversation, 5))
    assert _drain(inbox) == [(5, "text 5")]


async def test_the_inbox_can_be_read_as_an_async_iterator() -> None:
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation = uuid.uuid4()
    for seq in (1, 2):
        await inbox.accept(_stored(conversation, seq))
    seen = []
    async for message in inbox:
        seen.append(message.seq)
        if len(seen) == 2:
            break
    assert seen == [1, 2]
    with pytest.raises(TimeoutError):
        await inbox.get(timeout=0.05)


def _replayed(original: MessageData, seq: int) -> MessageData:
    """The same stored message, pushed again under another sequence number."""
    return dataclasses.replace(original, seq=seq)


async def test_a_message_replayed_at_a_new_number_is_delivered_once() -> None:
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation = uuid.uuid4()
    first = _stored(conversation, 1)
    await inbox.accept(first)
    await inbox.accept(_replayed(first, 2))
    await inbox.accept(_stored(conversation, 3))

    assert _drain(inbox) == [(1, "text 1"), (3, "text 3")]
    assert inbox.position(conversation) == 3  # the replay's number is held: no gap
    assert inbox.replays == 1


async def test_a_message_id_that_failed_to_open_does_not_hide_the_real_message() -> None:
    """Only a message that opened claims its id: a forgery sent first under a real
    message's id cannot make the real one look like a replay."""
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation = uuid.uuid4()
    real = _stored(conversation, 2)
    await inbox.accept(dataclasses.replace(real, seq=1, ciphertext=b"forged"))
    await inbox.accept(real)

    assert _drain(inbox) == [(2, "text 2")]
    assert inbox.replays == 0


async def test_the_same_message_id_from_another_sender_or_conversation_is_not_a_replay() -> None:
    recorder = Recorder()
    inbox = Inbox(recorder.open, recorder.sync)
    conversation, other = uuid.uuid4(), uuid.uuid4()
    first = _stored(conversation, 1)
    elsewhere = dataclasses.replace(first, conversation=other)
    from_peer = dataclasses.replace(first, seq=2, sender=SENDER + 1, ciphertext=b"text 2")
    for data in (first, elsewhere, from_peer):
        await inbox.accept(data)

    assert len(_drain(inbox)) == 3
    assert inbox.replays == 0


class Sealer:
    """Seals real version-2 messages of one session, each naming the one before."""

    def __init__(self, conversation: uuid.UUID) -> None:
        self.conversation = conversation
        self.identity = crypto.IdentityKeyPair.generate()
        self.key = crypto.ConversationKey.generate()
        self.chain = crypto.new_chain()
        self.previous = bytes(32)

    def seal(self, counter: int) -> bytes:
        order = crypto.MessageOrder(self.chain, counter, 1_796_479_200_000 + counter, self.previous)
        wire = crypto.seal_text(
            f"m{counter}", self.key, self.conversation, 0, self.identity, uuid.uuid4(), order
        )
        self.previous = crypto.message_reference(wire)
        return wire


async def test_the_order_is_read_again_only_after_an_unusual_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversation = uuid.uuid4()
    recorder = Recorder()
    warnings: list[crypto.OrderNotice] = []
    inbox = Inbox(recorder.open, recorder.sync, warn=lambda _c, notice: warnings.append(notice))
    readings = []
    real = crypto.check_order

    def counted(entries: list[crypto.OrderEntry], from_start: bool) -> list[crypto.OrderNotice]:
        readings.append(len(entries))
        return real(entries, from_start)

    monkeypatch.setattr(crypto, "check_order", counted)
    sealer = Sealer(conversation)
    wires = [sealer.seal(counter) for counter in range(1, 61)]
    for seq, wire in enumerate(wires[:50], start=1):
        await inbox.accept(_stored(conversation, seq, wire))
        assert inbox.report_order() == 0
    assert readings == [], "messages in their sender's order are not read again"

    # The server skips counter 51: the next message is an unusual one, read once.
    for seq, wire in enumerate(wires[51:], start=51):
        await inbox.accept(_stored(conversation, seq, wire))
        inbox.report_order()
    assert readings == [51]
    # Counter 51 is missing, and counter 52 names it as the message before it.
    assert [(w.kind, w.seq, w.first, w.last) for w in warnings] == [
        ("missing", 51, 51, 51),
        ("unseen", 51, 52, 52),
    ]
    assert inbox.report_order() == 0, "a finding is reported once"


async def test_a_message_named_before_it_arrives_is_read_as_out_of_order() -> None:
    """Not followed from the start: message 5 names message 6 as the one before it; 6
    arrives later and in its own session's order, and is still found out of order."""
    conversation = uuid.uuid4()
    recorder = Recorder()
    warnings: list[crypto.OrderNotice] = []
    inbox = Inbox(recorder.open, recorder.sync, warn=lambda _c, notice: warnings.append(notice))
    inbox.track(conversation, position=4)
    first, second = Sealer(conversation), Sealer(conversation)
    earlier = second.seal(1)  # written first, by the other member
    first.previous = crypto.message_reference(earlier)
    later = first.seal(1)  # written after reading it
    await inbox.accept(_stored(conversation, 5, later))
    inbox.report_order()
    assert warnings == [], "what it names may lie before what is held"
    await inbox.accept(dataclasses.replace(_stored(conversation, 6, earlier), sender=SENDER + 1))
    inbox.report_order()
    assert [(w.kind, w.seq) for w in warnings] == [("out_of_order", 6)]
