"""A client who has not accepted the practice's current messaging agreement reads it with
``agreement()`` and accepts it with ``accept_agreement(version)``. Until then the server
refuses their sends with ``agreement_required``: ``send_text`` raises the typed
``AgreementRequiredError``, nothing is resent by itself, and the message stays in the
outbox, ``pending`` for that reason, until the acceptance sends it, same id, same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from confide_client.errors import AgreementRequiredError, ClientError, ForbiddenError
from confide_client.records import MessageState
from confide_client.state import StateFolder
from tests.client.conftest import Practice, SignIn
from tests.waiting import until


async def test_the_agreement_says_its_text_version_and_whether_it_was_accepted(
    practice: Practice, sign_in: SignIn
) -> None:
    oscar = await sign_in(practice.other_client, connect=False)
    assert oscar.account is not None and oscar.account.agreement is None

    agreement = await oscar.agreement()
    assert agreement.version == practice.portal.agreement_version
    assert not agreement.accepted
    assert "Not for emergencies" in agreement.text
    assert agreement.text.index("Not for emergencies") < agreement.text.index("two business")

    accepted = await oscar.accept_agreement(agreement.version)
    assert accepted.version == agreement.version
    assert (await oscar.agreement()).accepted_at == accepted.accepted_at
    assert oscar.account.agreement == accepted


async def test_a_send_before_accepting_raises_and_the_message_waits(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    theo = await sign_in(practice.therapist)
    oscar = await sign_in(practice.other_client, state=StateFolder(tmp_path))

    with pytest.raises(AgreementRequiredError) as refused:
        await oscar.send_text(practice.other_conversation, "Hello, it is Oscar")

    message_id = refused.value.data["client_message_id"]
    assert refused.value.code == "agreement_required"
    assert isinstance(refused.value, ForbiddenError)
    (status,) = oscar.message_statuses(practice.other_conversation)
    assert str(status.client_message_id) == message_id
    assert (status.state, status.reason) == (MessageState.PENDING, "agreement_required")
    assert len(oscar.outbox) == 1
    (saved,) = json.loads(next((tmp_path / "outbox").glob("*.json")).read_text())["messages"]
    assert saved["client_message_id"] == message_id
    assert await theo.ping() and len(practice.portal.sends) == 1  # not resent by itself

    await oscar.accept_agreement((await oscar.agreement()).version)

    received = await theo.next_message(5)
    assert (str(received.client_message_id), received.text) == (message_id, "Hello, it is Oscar")
    refused_send, accepted_send = practice.portal.sends
    assert accepted_send.ciphertext == refused_send.ciphertext
    await until(lambda: len(oscar.outbox) == 0)
    sent = oscar.message_status(received.client_message_id)
    assert sent is not None and sent.state is MessageState.SENT


async def test_queued_messages_wait_and_go_in_order_after_accepting(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist)
    oscar = await sign_in(practice.other_client)
    first = await oscar.queue_text(practice.other_conversation, "one")
    second = await oscar.queue_text(practice.other_conversation, "two")
    await until(lambda: len(practice.portal.sends) == 2)
    await until(
        lambda: all(
            (s := oscar.message_status(m)) and s.reason == "agreement_required"
            for m in (first, second)
        )
    )

    await oscar.accept_agreement(practice.portal.agreement_version)

    texts = {(await theo.next_message(5)).text for _ in range(2)}
    assert texts == {"one", "two"}


async def test_a_waiting_message_can_be_discarded(practice: Practice, sign_in: SignIn) -> None:
    oscar = await sign_in(practice.other_client)
    message_id = await oscar.queue_text(practice.other_conversation, "never mind")
    await until(lambda: practice.portal.sends)
    await until(lambda: (s := oscar.message_status(message_id)) and s.state.value == "pending")

    assert oscar.discard(practice.other_conversation, message_id)

    status = oscar.message_status(message_id)
    assert status is not None and (status.state, status.reason) == (
        MessageState.FAILED,
        "discarded",
    )
    assert not oscar.discard(practice.other_conversation, message_id)
    await oscar.accept_agreement(practice.portal.agreement_version)
    await oscar.ping()
    assert len(practice.portal.sends) == 1


async def test_a_therapist_cannot_accept_a_client_agreement(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist, connect=False)
    with pytest.raises(ClientError) as refused:
        await theo.accept_agreement(practice.portal.agreement_version)
    assert refused.value.code == "forbidden"
