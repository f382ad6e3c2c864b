"""A compromised server's edits of its own message table, for the tests that show the
clients notice them (crypto/SPEC.md, "Order"): a message withheld and the rest numbered
without a gap, and two messages swapped. Each is a few SQL statements on the server's
database (``Stack.execute``), between the server's own writes."""

from __future__ import annotations

import uuid
from typing import Protocol

__all__ = ["swap", "withhold"]

# Numbers moved out of the way first: (conversation, seq) is unique at every statement.
_ASIDE = 1_000_000
_SET_SEQ = "UPDATE messaging_message SET seq = ? WHERE conversation_id = ? AND seq = ?"


class Database(Protocol):
    def execute(self, statement: str, *params: object) -> None: ...


def withhold(database: Database, conversation: uuid.UUID, seq: int, last_seq: int) -> None:
    """Deletes message ``seq`` and numbers the later ones one lower, up to ``last_seq``
    (the conversation's last number before), as if ``seq`` had never been stored."""
    database.execute(
        "DELETE FROM messaging_message WHERE conversation_id = ? AND seq = ?", conversation, seq
    )
    for later in range(seq + 1, last_seq + 1):
        database.execute(_SET_SEQ, later - 1, conversation, later)
    database.execute(
        "UPDATE messaging_conversation SET last_seq = ? WHERE id = ?", last_seq - 1, conversation
    )
    database.execute(
        "UPDATE messaging_membership SET last_read_seq = ? WHERE conversation_id = ? "
        "AND last_read_seq > ?",
        last_seq - 1,
        conversation,
        last_seq - 1,
    )


def swap(database: Database, conversation: uuid.UUID, a: int, b: int) -> None:
    """Exchanges the numbers of messages ``a`` and ``b``."""
    database.execute(_SET_SEQ, _ASIDE + a, conversation, a)
    database.execute(_SET_SEQ, a, conversation, b)
    database.execute(_SET_SEQ, b, conversation, _ASIDE + a)
