"""The message table has no index on ``conversation_id`` alone (migration 0012): the two
unique constraints beginning with it serve every lookup by conversation, and each stored
message costs one index write fewer. Going back restores it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = "messaging_message"


def _indexes() -> dict[str, tuple[str, ...]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, TABLE)
    return {name: tuple(c["columns"]) for name, c in found.items() if c["index"] or c["unique"]}


def test_conversation_id_is_indexed_only_as_the_start_of_the_unique_constraints() -> None:
    indexes = _indexes()
    assert ("conversation_id",) not in indexes.values()
    assert ("conversation_id", "seq") in indexes.values()
    assert ("conversation_id", "client_message_id") in indexes.values()


def test_the_migration_drops_the_index_and_going_back_restores_it() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0011_epoch_start_seq")])
    assert ("conversation_id",) in _indexes().values()
    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0012_message_conversation_needs_no_index_of_its_own")])
    assert ("conversation_id",) not in _indexes().values()
