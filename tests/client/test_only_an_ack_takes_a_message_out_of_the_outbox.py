"""One settle rule: a waiting message leaves the outbox only on its ``ack``, also a late one
that arrives after its request gave up. A push or a sync page that shows one's own message
does not settle it: only the ack says the server stored these bytes under this id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from confide_client.client import ConfideClient
from protocol.to_client import AckFrame, MessageFrame, SyncPage, SyncReply

SENT_AT = datetime(2026, 1, 1, tzinfo=UTC)


def _stored(conversation: uuid.UUID, message_id: uuid.UUID) -> MessageFrame:
    return MessageFrame(
        conversation=conversation,
        seq=1,
        client_message_id=message_id,
        epoch=0,
        sender=5,
        ciphertext="AQID",
        sent_at=SENT_AT,
    )


async def test_its_push_and_sync_leave_a_message_waiting_and_a_late_ack_settles_it() -> None:
    client = ConfideClient("http://127.0.0.1:8000")
    conversation, message_id = uuid.uuid4(), uuid.uuid4()
    entry = client.outbox.add(conversation, message_id, 0, b"sealed bytes", "text")
    pushed = _stored(conversation, message_id)

    client._on_frame(pushed)
    client._on_frame(
        SyncReply(
            conversations=[
                SyncPage(conversation=conversation, messages=[pushed], has_more=False, last_seq=1)
            ]
        )
    )
    assert len(client.outbox) == 1 and not entry.acked.done()

    late_ack = AckFrame(
        conversation=conversation,
        client_message_id=message_id,
        seq=1,
        sent_at=SENT_AT,
        duplicate=False,
    )
    client._on_frame(late_ack)
    assert len(client.outbox) == 0
    assert (await entry.acked).seq == 1
    await client.close()
