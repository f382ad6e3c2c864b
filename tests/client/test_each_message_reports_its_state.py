"""Each of the user's own messages has a state, as a value (``message_status``) and as an
event for every change: ``pending`` when queued (``queue_text`` returns its id at once),
``sending`` while its ``send`` is on the wire, ``pending`` again with the reason while it
waits to be resent, ``sent`` with its seq on the ack, ``read`` once another member's read
position reaches it, and ``failed`` with the code of a refusal that a resend cannot change."""

from __future__ import annotations

import uuid

import pytest

from confide_client import ConfideClient
from confide_client.errors import BadCiphertextError
from confide_client.records import MessageState, MessageStatus
from confide_client.tracking import SentMessages
from protocol.errors import ErrorCode
from tests.client.conftest import Practice, SignIn
from tests.waiting import until


def _states(
    client: ConfideClient, message_id: uuid.UUID
) -> list[tuple[str, int | None, str | None]]:
    found = []
    while not client.events.empty():
        event = client.events.get_nowait()
        if isinstance(event, MessageStatus) and event.client_message_id == message_id:
            found.append((event.state.value, event.seq, event.reason))
    return found


async def test_a_message_goes_from_pending_to_sending_to_sent_to_read(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist)
    clara = await sign_in(practice.client)

    message_id = await clara.queue_text(practice.conversation, "See you Thursday")
    await until(lambda: (s := clara.message_status(message_id)) and s.state is MessageState.SENT)
    await theo.next_message(5)
    await theo.mark_read(practice.conversation, 1)
    await until(lambda: (s := clara.message_status(message_id)) and s.state is MessageState.READ)

    assert _states(clara, message_id) == [
        ("pending", None, None),
        ("sending", None, None),
        ("sent", 1, None),
        ("read", 1, None),
    ]
    assert clara.message_statuses(practice.conversation) == [
        MessageStatus(practice.conversation, message_id, MessageState.READ, 1)
    ]


async def test_one_s_own_read_position_does_not_make_a_message_read(
    practice: Practice, sign_in: SignIn
) -> None:
    clara = await sign_in(practice.client)
    await clara.send_text(practice.conversation, "Noted")
    await clara.mark_read(practice.conversation, 1)
    (status,) = clara.message_statuses(practice.conversation)
    assert status.state is MessageState.SENT


async def test_a_message_waiting_out_a_pause_is_pending_with_the_reason(
    practice: Practice, sign_in: SignIn
) -> None:
    practice.portal.refusals = [ErrorCode.RATE_LIMITED]
    clara = await sign_in(practice.client)

    seq = await clara.send_text(practice.conversation, "Sorry, one more thing")

    message_id = practice.portal.sends[0].client_message_id
    assert _states(clara, message_id) == [
        ("pending", None, None),
        ("sending", None, None),
        ("pending", None, "rate_limited"),
        ("sending", None, "rate_limited"),
        ("sent", seq, None),
    ]


async def test_a_refusal_for_good_is_failed_with_its_code(
    practice: Practice, sign_in: SignIn
) -> None:
    practice.portal.refusals = [ErrorCode.BAD_CIPHERTEXT]
    clara = await sign_in(practice.client)

    with pytest.raises(BadCiphertextError):
        await clara.send_text(practice.conversation, "This will not go")

    (status,) = clara.message_statuses(practice.conversation)
    assert (status.state, status.reason) == (MessageState.FAILED, "bad_ciphertext")
    assert len(clara.outbox) == 0


def test_a_read_position_seen_before_the_ack_makes_the_message_read_at_once() -> None:
    conversation, message_id = uuid.uuid4(), uuid.uuid4()
    sent = SentMessages()
    assert sent.read_up_to(conversation, 4) == []

    changes = sent.update(MessageStatus(conversation, message_id, MessageState.SENT, 3))

    assert [(s.state, s.seq) for s in changes] == [
        (MessageState.SENT, 3),
        (MessageState.READ, 3),
    ]
    assert sent.get(message_id) == MessageStatus(conversation, message_id, MessageState.READ, 3)
