"""A batch whose insert meets a (conversation, message id) already stored, because another
writer stored it after this one looked (two processes racing where the row lock does not
hold), is tried once more, and the second try reads the winner's row: the resend gets its
``duplicate`` ack and the batch's other messages are stored. On PostgreSQL the insert runs
on psycopg's own cursor, so its unique violation must still reach the retry as Django's
``IntegrityError``."""

from __future__ import annotations

import uuid

import pytest

from messaging.models import Message
from messaging.services.writer import BatchSql, StoredMessage, store_batch
from tests.messaging.conftest import send_request
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_unique_violation_on_insert_retries_the_batch_and_acks_the_resend(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = send_request(world.chat, world.client, "stored by the other writer", uuid.uuid4())
    [won] = store_batch([first])
    assert isinstance(won, StoredMessage) and not won.duplicate

    # The first lookup of the next batch misses what is stored, as a writer's would that
    # looked before the other committed; the retry looks again, as a new transaction does.
    sql = BatchSql.get()
    honest = sql.used_ids
    lookups: list[str] = []

    def used_ids_once_blind() -> str:
        lookups.append("lookup")
        return honest if len(lookups) > 1 else honest + " AND FALSE"

    monkeypatch.setattr(BatchSql, "get", classmethod(lambda cls: _Blind(sql, used_ids_once_blind)))

    new = send_request(world.chat, world.client, "new in the same batch", uuid.uuid4())
    resent, stored = store_batch([first, new])

    assert len(lookups) == 2, "the batch was not tried again after the unique violation"
    assert isinstance(resent, StoredMessage)
    assert (resent.seq, resent.duplicate) == (won.seq, True)
    assert isinstance(stored, StoredMessage) and not stored.duplicate
    assert stored.seq == won.seq + 1
    assert Message.objects.filter(conversation_id=world.chat.id).count() == 2


class _Blind:
    """The vendor's statements, with ``used_ids`` read afresh from a function."""

    def __init__(self, sql: BatchSql, used_ids: object) -> None:
        self._sql = sql
        self._used_ids = used_ids

    def __getattr__(self, name: str) -> object:
        if name == "used_ids":
            return self._used_ids()  # type: ignore[operator]
        return getattr(self._sql, name)
