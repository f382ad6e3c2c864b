"""A message the server had not acknowledged when the client stopped is kept in the state
folder and sent again by the next client that connects with the same folder, server and
account: with the same client message id and the same bytes, so the server stores it once.
Its text is recovered from the ciphertext with the user's own keys, so a ``stale_epoch``
after the restart still re-seals it; one that does not open is still sent as it is."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from confide_client.outbox import SealedMessage
from confide_client.records import MessageState
from confide_client.state import StateFolder
from crypto import AttachmentReference, ConversationKey, seal_text
from tests.client.conftest import Practice, SignIn
from tests.waiting import until

TEXT = "Are we still on for Thursday?"


def _waiting_in_file(folder: Path) -> list[str]:
    paths = list((folder / "outbox").glob("*.json"))
    return [m["client_message_id"] for p in paths for m in json.loads(p.read_text())["messages"]]


async def _queue_unanswered(
    practice: Practice,
    sign_in: SignIn,
    folder: Path,
    attachments: tuple[AttachmentReference, ...] = (),
) -> uuid.UUID:
    """Clara queues a message the stand-in takes but never answers, then her client stops."""
    practice.portal.silent = True
    first = await sign_in(practice.client, state=StateFolder(folder), ack_timeout=60)
    message_id = await first.queue_text(practice.conversation, TEXT, attachments=attachments)
    await until(lambda: practice.portal.sends)
    await first.close()
    practice.portal.silent = False
    return message_id


async def test_it_goes_again_with_the_same_id_and_bytes_and_is_stored_once(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    message_id = await _queue_unanswered(practice, sign_in, tmp_path)
    assert practice.portal.stored(practice.conversation) == []
    assert _waiting_in_file(tmp_path) == [str(message_id)]

    theo = await sign_in(practice.therapist)
    again = await sign_in(practice.client, state=StateFolder(tmp_path))

    received = await theo.next_message(5)
    assert (received.client_message_id, received.text) == (message_id, TEXT)
    first_send, resend = practice.portal.sends
    assert resend.client_message_id == first_send.client_message_id == message_id
    assert (resend.epoch, resend.ciphertext) == (first_send.epoch, first_send.ciphertext)
    await until(lambda: _waiting_in_file(tmp_path) == [])
    status = again.message_status(message_id)
    assert status is not None and (status.state, status.seq) == (MessageState.SENT, 1)
    assert len(practice.portal.stored(practice.conversation)) == 1


async def test_a_message_stored_whose_ack_was_lost_is_acknowledged_as_a_duplicate(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    practice.portal.lose_acks = True
    first = await sign_in(practice.client, state=StateFolder(tmp_path), ack_timeout=60)
    message_id = await first.queue_text(practice.conversation, TEXT)
    await until(lambda: practice.portal.stored(practice.conversation))
    await first.close()
    practice.portal.lose_acks = False

    again = await sign_in(practice.client, state=StateFolder(tmp_path))

    await until(lambda: _waiting_in_file(tmp_path) == [])
    assert (again.stats.acked, again.stats.duplicate_acks) == (1, 1)
    assert [m.client_message_id for m in practice.portal.stored(practice.conversation)] == [
        message_id
    ]


async def test_after_a_new_epoch_the_recovered_text_is_resealed_under_the_same_id(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    message_id = await _queue_unanswered(practice, sign_in, tmp_path)
    epoch = practice.portal.rotate(practice.conversation, by=practice.therapist)

    theo = await sign_in(practice.therapist)
    await sign_in(practice.client, state=StateFolder(tmp_path))

    received = await theo.next_message(5)
    assert (received.client_message_id, received.text) == (message_id, TEXT)
    stale, resealed = practice.portal.sends[1:]
    assert stale.epoch == 0 and resealed.epoch == epoch
    assert resealed.client_message_id == message_id
    await until(lambda: _waiting_in_file(tmp_path) == [])


async def test_a_message_presenting_files_is_resealed_with_its_files(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    files = (
        AttachmentReference(
            uuid.uuid4(), bytes(32), bytes(32), 1234, "plan.pdf", "application/pdf"
        ),
        AttachmentReference(uuid.uuid4(), bytes(32), bytes(32), 99, "notes.txt", "text/plain"),
    )
    message_id = await _queue_unanswered(practice, sign_in, tmp_path, files)
    epoch = practice.portal.rotate(practice.conversation, by=practice.therapist)

    theo = await sign_in(practice.therapist)
    await sign_in(practice.client, state=StateFolder(tmp_path))

    received = await theo.next_message(5)
    assert (received.client_message_id, received.text) == (message_id, TEXT)
    assert received.attachments == files
    stale, resealed = practice.portal.sends[1:]
    assert stale.epoch == 0 and resealed.epoch == epoch
    await until(lambda: _waiting_in_file(tmp_path) == [])


async def test_a_message_that_does_not_open_is_still_sent_as_it_is(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    folder = StateFolder(tmp_path)
    message_id = uuid.uuid4()
    # Sealed under a key this client does not hold: its text cannot be recovered.
    ciphertext = seal_text(
        TEXT,
        ConversationKey.generate(),
        practice.conversation,
        0,
        practice.client.identity,
        message_id,
    )
    probe = await sign_in(practice.client, connect=False)
    assert probe.account is not None
    folder.outbox_file(probe.server_url, probe.account.id).save(
        [SealedMessage(practice.conversation, message_id, 0, ciphertext, datetime.now(UTC))]
    )

    client = await sign_in(practice.client, state=folder)

    await until(lambda: _waiting_in_file(tmp_path) == [])
    (sent,) = practice.portal.sends
    assert sent.client_message_id == message_id
    status = client.message_status(message_id)
    assert status is not None and status.state is MessageState.SENT


async def test_another_account_with_the_same_folder_sends_none_of_them(
    practice: Practice, sign_in: SignIn, tmp_path: Path
) -> None:
    message_id = await _queue_unanswered(practice, sign_in, tmp_path)

    other = await sign_in(practice.therapist, state=StateFolder(tmp_path))
    await other.ping()

    assert [s.client_message_id for s in practice.portal.sends] == [message_id]
    assert _waiting_in_file(tmp_path) == [str(message_id)]
