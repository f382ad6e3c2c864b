"""Migration 0011 gives every conversation there is its ``epoch_start_seq``: the number
before the current epoch's first message, or the last number when the epoch has none, so
that the listing's count of the current epoch's messages (``last_seq`` minus it) is what
counting the rows gave before."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import Practice, Role
from tests.personas import make_person

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("messaging", "0010_attachments")]
AFTER = [("messaging", "0011_epoch_start_seq")]


def test_each_conversation_counts_its_current_epoch_as_before() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    # The accounts tables stay as they are now: only messaging went back.
    practice = Practice.objects.create(name="Before")
    sender = make_person(practice, Role.CLIENT, "Casey Client").user
    conversation_model = apps.get_model("messaging", "Conversation")
    message_model = apps.get_model("messaging", "Message")

    def conversation(epochs: list[int], current: int) -> uuid.UUID:
        made = conversation_model.objects.create(
            practice_id=practice.pk, current_epoch=current, last_seq=len(epochs)
        )
        for seq, epoch in enumerate(epochs, start=1):
            message_model.objects.create(
                conversation=made,
                seq=seq,
                client_message_id=uuid.uuid4(),
                epoch=epoch,
                sender_id=sender.pk,
                ciphertext=b"x",
                created_at=timezone.now(),
            )
        made_id: uuid.UUID = made.id
        return made_id

    spread = conversation([0, 0, 0, 1, 1, 2, 2, 2, 2], current=2)
    fresh_epoch = conversation([0, 0, 1], current=2)  # rekeyed, nothing written since
    empty = conversation([], current=0)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    shown = {
        c.id: (c.last_seq - c.epoch_start_seq)
        for c in apps.get_model("messaging", "Conversation").objects.all()
    }
    assert shown == {spread: 4, fresh_epoch: 0, empty: 0}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
