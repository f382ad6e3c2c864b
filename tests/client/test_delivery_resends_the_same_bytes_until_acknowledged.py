"""Delivery sends a waiting message until the server acknowledges it: the same bytes again
after a timeout, a lost connection, ``rate_limited``, ``unavailable`` or ``server_error``;
new bytes under the same id after ``stale_epoch``; and it gives up on a refusal that a
resend cannot change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from confide_client.backoff import Backoff
from confide_client.errors import (
    BadCiphertextError,
    ClientClosedError,
    ClientError,
    ConnectionLostError,
    ProtocolError,
    RateLimitedError,
    ReplyTimeoutError,
    ServerRefusedError,
    StaleEpochError,
    UnavailableError,
)
from confide_client.outbox import Outbox, OutgoingMessage, deliver
from protocol.to_client import AckFrame, PongFrame, ServerFrame
from protocol.to_server import SendFrame

CONVERSATION = uuid.uuid4()
QUICK = {"initial": 0.001, "maximum": 0.002}

Step = ClientError | Callable[[SendFrame], ServerFrame]


def _ack(frame: SendFrame, duplicate: bool = False) -> AckFrame:
    return AckFrame(
        conversation=frame.conversation,
        client_message_id=frame.client_message_id,
        seq=1,
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
        duplicate=duplicate,
    )


class ScriptedLink:
    """Answers each send with the next step of its script: an error to raise, or a reply."""

    def __init__(self, *script: Step, closed: bool = False) -> None:
        self.script = list(script)
        self.sent: list[SendFrame] = []
        self.aborts = 0
        self.closed = closed

    async def wait_connected(self, timeout: float | None = None) -> None:
        if self.closed:
            raise ClientClosedError("closed")

    async def call(self, frame: SendFrame, timeout: float) -> ServerFrame:
        self.sent.append(frame)
        step = self.script.pop(0)
        if isinstance(step, ClientError):
            raise step
        return step(frame)

    def abort(self) -> None:
        self.aborts += 1


async def _run(link: ScriptedLink, reseal: Any = None) -> tuple[Outbox, OutgoingMessage]:
    outbox = Outbox()
    entry = outbox.add(CONVERSATION, uuid.uuid4(), 0, b"sealed bytes", "text")

    async def no_reseal(entry: OutgoingMessage) -> None:
        raise AssertionError("not expected to reseal")

    await deliver(
        entry,
        outbox,
        link,
        ack_timeout=1.0,
        reseal=reseal or no_reseal,
        pause=Backoff(**QUICK),
    )
    return outbox, entry


async def test_a_message_acknowledged_at_once_is_sent_once() -> None:
    link = ScriptedLink(_ack)
    outbox, entry = await _run(link)
    assert (await entry.acked).seq == 1
    assert len(link.sent) == 1 and outbox.resends == 0 and len(outbox) == 0


@pytest.mark.parametrize(
    "trouble",
    [
        ReplyTimeoutError("no ack in time"),
        ConnectionLostError("socket closed"),
        RateLimitedError("slow down", retry_after_ms=1),
        UnavailableError("database down"),
        ServerRefusedError("unexpected", code="server_error"),
    ],
    ids=["timeout", "disconnect", "rate_limited", "unavailable", "server_error"],
)
async def test_after_a_transient_failure_the_same_bytes_are_sent_again(
    trouble: ClientError,
) -> None:
    link = ScriptedLink(trouble, lambda frame: _ack(frame, duplicate=True))
    outbox, entry = await _run(link)
    assert (await entry.acked).duplicate
    assert len(link.sent) == 2
    assert link.sent[0] == link.sent[1]  # same id, same epoch, same ciphertext
    assert outbox.resends == 1 and outbox.duplicate_acks == 1


async def test_a_timeout_drops_the_socket_so_the_resend_goes_on_a_fresh_one() -> None:
    link = ScriptedLink(ReplyTimeoutError("silent"), _ack)
    await _run(link)
    assert link.aborts == 1


async def test_a_stale_epoch_reseals_under_the_new_epoch_with_the_same_id() -> None:
    link = ScriptedLink(StaleEpochError("epoch 1 now", current_epoch=1), _ack)

    async def reseal(entry: OutgoingMessage) -> None:
        entry.reseal(1, b"sealed under epoch 1")

    outbox, entry = await _run(link, reseal)
    assert (await entry.acked).seq == 1
    first, second = link.sent
    assert first.client_message_id == second.client_message_id
    assert (first.epoch, second.epoch) == (0, 1)
    assert first.ciphertext != second.ciphertext
    assert outbox.reseals == 1


async def test_a_refusal_a_resend_cannot_change_is_raised_to_the_sender() -> None:
    link = ScriptedLink(BadCiphertextError("bad signature"))
    outbox, entry = await _run(link)
    with pytest.raises(BadCiphertextError):
        await entry.acked
    assert len(link.sent) == 1 and len(outbox) == 0


async def test_a_closed_client_settles_the_message_with_the_reason() -> None:
    link = ScriptedLink(closed=True)
    outbox, entry = await _run(link)
    with pytest.raises(ClientClosedError):
        await entry.acked
    assert link.sent == []


@pytest.mark.parametrize(
    "not_an_ack",
    [ProtocolError("the ack is off the protocol"), lambda frame: PongFrame()],
    ids=["an ack off the protocol", "a reply of another type"],
)
async def test_a_malformed_ack_counts_as_no_ack(not_an_ack: Step) -> None:
    link = ScriptedLink(not_an_ack, _ack)
    outbox, entry = await _run(link)
    assert (await entry.acked).seq == 1
    assert link.aborts == 1 and outbox.resends == 1
