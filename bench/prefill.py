"""Years of history in a benchmark's database before its load begins.

    python bench/prefill.py DATABASE_URL [--messages 10000000] [--conversations 10000]

Gives the database the message table a practice reaches after years: ``--messages`` rows
spread evenly over ``--conversations`` conversations. The conversations the load will use
(every one already in the database) take their share of the history, and their
``last_seq`` moves past it, so the load's own messages land on top of years of rows, as
they would in a practice; the rest are new conversations of the same practice. The rows
are made inside PostgreSQL (``INSERT … SELECT`` over ``generate_series``), a batch of
conversations per statement: nothing crosses the socket but the statement, which is as
fast as COPY and needs no file. Each sealed message is ``--ciphertext-bytes`` long (a short
message padded to its 256-byte bucket is about that once sealed), random bytes made once.

Then ``VACUUM ANALYZE``, as autovacuum would have done long before the table reached this
size. Prints what it made and how long it took.
"""

from __future__ import annotations

import argparse
import secrets
import time
from typing import Any

# A short message, padded to the 256-byte bucket and sealed (crypto/SPEC.md): 429 bytes.
CIPHERTEXT_BYTES = 429


def prefill(
    database_url: str,
    messages: int,
    conversations: int,
    *,
    ciphertext_bytes: int = CIPHERTEXT_BYTES,
    per_statement: int = 200,
) -> dict[str, Any]:
    """See the module's docstring; returns the figures of the run."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as db:
        existing = db.execute(
            "SELECT c.id, c.practice_id, min(m.user_id)"
            " FROM messaging_conversation c JOIN messaging_membership m"
            " ON m.conversation_id = c.id GROUP BY c.id, c.practice_id ORDER BY c.id"
        ).fetchall()
        if not existing:
            raise SystemExit("prefill: the database has no conversation to take a practice from")
        practice, sender = existing[0][1], existing[0][2]
        missing = max(0, conversations - len(existing))
        if missing:
            db.execute(
                "INSERT INTO messaging_conversation (id, status, created_at, current_epoch,"
                " epoch_started_at, last_seq, epoch_start_seq, practice_id)"
                " SELECT gen_random_uuid(), 'active', now(), 0, now(), 0, 0, %s"
                " FROM generate_series(1, %s)",
                (practice, missing),
            )
        targets = db.execute(
            "SELECT c.id, coalesce(min(m.user_id), %s) FROM messaging_conversation c"
            " LEFT JOIN messaging_membership m ON m.conversation_id = c.id"
            " GROUP BY c.id ORDER BY c.id",
            (sender,),
        ).fetchall()
        each = messages // len(targets)
        blob = secrets.token_bytes(ciphertext_bytes)
        for start in range(0, len(targets), per_statement):
            chunk = targets[start : start + per_statement]
            with db.transaction():
                db.execute(
                    "INSERT INTO messaging_message (conversation_id, seq, client_message_id,"
                    " epoch, sender_id, ciphertext, created_at)"
                    " SELECT t.id, c.last_seq + s, gen_random_uuid(), c.current_epoch,"
                    " t.sender, %s, now() - make_interval(mins => %s - s)"
                    " FROM unnest(%s::uuid[], %s::bigint[]) AS t(id, sender)"
                    " JOIN messaging_conversation c ON c.id = t.id"
                    " CROSS JOIN generate_series(1, %s) AS s",
                    (blob, each, [t[0] for t in chunk], [t[1] for t in chunk], each),
                )
                db.execute(
                    "UPDATE messaging_conversation SET last_seq = last_seq + %s,"
                    " last_message_at = now() WHERE id = ANY(%s::uuid[])",
                    (each, [t[0] for t in chunk]),
                )
        inserted = time.monotonic() - started
        db.execute("VACUUM ANALYZE messaging_message")
        db.execute("VACUUM ANALYZE messaging_conversation")
        row = db.execute(
            "SELECT count(*), pg_total_relation_size('messaging_message') FROM messaging_message"
        ).fetchone()
        assert row is not None
    return {
        "messages": int(row[0]),
        "conversations": len(targets),
        "per_conversation": each,
        "ciphertext_bytes": ciphertext_bytes,
        "table_bytes": int(row[1]),
        "insert_seconds": round(inserted, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--ciphertext-bytes", type=int, default=CIPHERTEXT_BYTES)
    args = parser.parse_args()
    print(
        prefill(
            args.database_url,
            args.messages,
            args.conversations,
            ciphertext_bytes=args.ciphertext_bytes,
        )
    )


if __name__ == "__main__":
    main()
