"""A conversation's waiting messages go one at a time, in the order they were written, so
that the server numbers them in that order (docs/protocol.md, ``send``): one refused for
now (``rate_limited``) is not overtaken by one written after it, which the readers'
order check would otherwise report as ``out_of_order``. Other conversations do not wait;
a message held for the agreement holds nothing back, and after the acceptance they go
again in their order. Messages queued at once are sealed in the order written, whatever
one of them waits for first."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from confide_client.errors import AgreementRequiredError, RateLimitedError
from confide_client.outbox import AgreementGate, Outbox, OutgoingMessage, deliver
from protocol.to_client import AckFrame, ServerFrame
from protocol.to_server import SendFrame
from tests.client.conftest import Practice, SignIn

FIRST, SECOND = uuid.uuid4(), uuid.uuid4()


class RecordingLink:
    """Answers each send after a short while, with ``refuse`` when it names the message
    (once each), else an ack; records what was sent, and how many sends of a conversation
    were on their way at once."""

    def __init__(self, refuse: dict[uuid.UUID, list[Exception]] | None = None) -> None:
        self.refuse = refuse or {}
        self.sent: list[uuid.UUID] = []
        self.stored: list[uuid.UUID] = []
        self.on_way: dict[uuid.UUID, int] = {}
        self.most_on_way: dict[uuid.UUID, int] = {}

    async def wait_connected(self, timeout: float | None = None) -> None:
        return None

    async def call(self, frame: SendFrame, timeout: float) -> ServerFrame:
        conversation = frame.conversation
        self.sent.append(frame.client_message_id)
        self.on_way[conversation] = self.on_way.get(conversation, 0) + 1
        self.most_on_way[conversation] = max(
            self.most_on_way.get(conversation, 0), self.on_way[conversation]
        )
        try:
            await asyncio.sleep(0.005)
            refusals = self.refuse.get(frame.client_message_id)
            if refusals:
                raise refusals.pop(0)
            self.stored.append(frame.client_message_id)
            return AckFrame(
                conversation=conversation,
                client_message_id=frame.client_message_id,
                seq=len(self.stored),
                sent_at=datetime(2026, 1, 1, tzinfo=UTC),
                duplicate=False,
            )
        finally:
            self.on_way[conversation] -= 1

    def abort(self) -> None:
        raise AssertionError("no send here times out")


async def _no_reseal(entry: OutgoingMessage) -> None:
    raise AssertionError("not expected to reseal")


def _queue(outbox: Outbox, conversation: uuid.UUID, count: int) -> list[OutgoingMessage]:
    return [
        outbox.add(conversation, uuid.uuid4(), 0, b"sealed bytes", f"text {n}")
        for n in range(count)
    ]


async def _deliver_all(
    outbox: Outbox,
    link: RecordingLink,
    entries: list[OutgoingMessage],
    agreement: AgreementGate | None = None,
) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(
            deliver(entry, outbox, link, ack_timeout=5, reseal=_no_reseal, agreement=agreement)
        )
        for entry in entries
    ]


async def test_a_message_refused_for_now_is_not_overtaken() -> None:
    outbox = Outbox()
    entries = _queue(outbox, FIRST, 4)
    ids = [entry.client_message_id for entry in entries]
    link = RecordingLink({ids[0]: [RateLimitedError("slow down", retry_after_ms=30)]})
    await asyncio.wait_for(asyncio.gather(*await _deliver_all(outbox, link, entries)), 5)
    assert link.stored == ids
    assert link.sent == [ids[0], *ids], "nothing went while the first waited out its pause"
    assert link.most_on_way[FIRST] == 1
    assert len(outbox) == 0


async def test_each_conversation_has_its_own_turn() -> None:
    outbox = Outbox()
    first = _queue(outbox, FIRST, 3)
    second = _queue(outbox, SECOND, 3)
    link = RecordingLink(
        {first[0].client_message_id: [RateLimitedError("slow down", retry_after_ms=200)]}
    )
    tasks = await _deliver_all(outbox, link, first + second)
    await asyncio.wait_for(asyncio.gather(*tasks[3:]), 5)
    assert [m for m in link.stored] == [e.client_message_id for e in second], (
        "the other conversation went while the first waited"
    )
    await asyncio.wait_for(asyncio.gather(*tasks[:3]), 5)
    assert link.stored[3:] == [e.client_message_id for e in first]
    assert link.most_on_way == {FIRST: 1, SECOND: 1}


async def test_messages_held_for_the_agreement_go_again_in_their_order() -> None:
    outbox = Outbox()
    gate = AgreementGate()
    entries = _queue(outbox, FIRST, 3)
    ids = [entry.client_message_id for entry in entries]
    link = RecordingLink({i: [AgreementRequiredError("accept the agreement first")] for i in ids})
    tasks = await _deliver_all(outbox, link, entries, gate)
    held = await asyncio.wait_for(asyncio.gather(*(e.held for e in entries)), 5)
    assert all(isinstance(error, AgreementRequiredError) for error in held)
    assert link.sent == ids, "each was refused once, in order, none waiting behind another"
    assert link.stored == []
    gate.accepted()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert link.stored == ids
    assert link.most_on_way[FIRST] == 1


async def test_messages_queued_at_once_are_sealed_in_the_order_written(
    practice: Practice, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before sealing, each message looks its conversation up: the first one waits longest,
    # as for an answer on a slow network.
    clara = await sign_in(practice.client)
    known = clara._known
    delays = iter([0.2, 0.0, 0.0])

    async def slow_lookup(conversation_id: uuid.UUID) -> Any:
        await asyncio.sleep(next(delays, 0.0))
        return await known(conversation_id)

    monkeypatch.setattr(clara, "_known", slow_lookup)
    texts = ["first", "second", "third"]
    ids = await asyncio.gather(*(clara.queue_text(practice.conversation, t) for t in texts))
    assert [(e.client_message_id, e.text) for e in clara.outbox.pending()] == list(
        zip(ids, texts, strict=True)
    )
