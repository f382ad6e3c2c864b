"""Delivery resends the same bytes after exactly the codes of ``protocol.errors.RESEND``
(the one set the browser reads too): after ``retry_after_ms`` when the error carries it,
after a growing pause otherwise. ``stale_epoch`` re-seals under the same id; every other
code fails the message after one send."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from confide_client.backoff import Backoff
from confide_client.errors import ClientError, error_from_server
from confide_client.outbox import Outbox, OutgoingMessage, deliver
from protocol.errors import RESEND, ErrorCode
from protocol.to_client import AckFrame, ServerFrame
from protocol.to_server import SendFrame

CONVERSATION = uuid.uuid4()


class RefuseOnce:
    """Refuses the first send with ``error``, then acknowledges."""

    def __init__(self, error: ClientError) -> None:
        self.error = error
        self.sent: list[SendFrame] = []

    async def wait_connected(self, timeout: float | None = None) -> None:
        return None

    async def call(self, frame: SendFrame, timeout: float) -> ServerFrame:
        self.sent.append(frame)
        if len(self.sent) == 1:
            raise self.error
        return AckFrame(
            conversation=frame.conversation,
            client_message_id=frame.client_message_id,
            seq=1,
            sent_at=datetime(2026, 1, 1, tzinfo=UTC),
            duplicate=False,
        )

    def abort(self) -> None:
        return None


async def _deliver(link: RefuseOnce, pause: Backoff) -> OutgoingMessage:
    outbox = Outbox()
    entry = outbox.add(CONVERSATION, uuid.uuid4(), 0, b"sealed bytes", "text")

    async def reseal(entry: OutgoingMessage) -> None:
        entry.reseal(1, b"sealed under epoch 1")

    await deliver(entry, outbox, link, ack_timeout=1.0, reseal=reseal, pause=pause)
    return entry


@pytest.mark.parametrize("code", list(ErrorCode))
async def test_the_same_bytes_go_again_exactly_after_the_codes_in_resend(code: ErrorCode) -> None:
    link = RefuseOnce(error_from_server(code, "no", {}))
    entry = await _deliver(link, Backoff(initial=0.001, maximum=0.002))

    resent_same_bytes = len(link.sent) == 2 and link.sent[0] == link.sent[1]
    assert resent_same_bytes == (code in RESEND)
    if code in RESEND:
        assert (await entry.acked).seq == 1
    elif code == ErrorCode.STALE_EPOCH:
        first, second = link.sent
        assert first.client_message_id == second.client_message_id
        assert (first.epoch, second.epoch) == (0, 1)
    else:
        assert len(link.sent) == 1
        with pytest.raises(ClientError) as caught:
            await entry.acked
        assert caught.value.code == code


@pytest.mark.parametrize("code", sorted(RESEND))
async def test_the_wait_is_the_servers_retry_after_when_it_gives_one(code: ErrorCode) -> None:
    link = RefuseOnce(error_from_server(code, "later", {"retry_after_ms": 20}))
    started = time.monotonic()
    # A pause long enough that a test waiting it would exceed its own bound.
    entry = await _deliver(link, Backoff(initial=30.0, maximum=30.0, jitter=0.0))
    waited = time.monotonic() - started

    assert (await entry.acked).seq == 1
    assert 0.02 <= waited < 5.0  # the server's 20 ms, not the 30 s pause


async def test_without_a_retry_after_the_pause_grows() -> None:
    pause = Backoff(initial=0.001, maximum=1.0, jitter=0.0)
    link = RefuseOnce(error_from_server(ErrorCode.UNAVAILABLE, "database down", {}))
    await _deliver(link, pause)
    assert pause.attempts == 1
    assert pause.next_delay() == 0.002
