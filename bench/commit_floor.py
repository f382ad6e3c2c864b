"""What a message's commit costs alone: the floor under delivery latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/commit_floor.py [--messages 400] [--gap-ms 5] [--batch 1]

A message is acknowledged and delivered only once the batch holding it has committed
(docs/protocol.md, "Delivery guarantees"), so no delivery can be quicker than its batch.
This runs the server's own writer (``messaging.services.writer.store_batch``) on a
database of the run's own, with nothing else on it: one real sealed message per batch, as
at a light load, ``--messages`` times with ``--gap-ms`` between them (``--batch N``: N
messages a batch, as under load). It reports the
median and 90th percentile of each batch's wall time and of the writer's own CPU time,
each statement the writer sent through Django's cursor, and a bare round trip to
PostgreSQL (``SELECT 1``) for scale. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.own_database import child_request, run_in_own_database  # noqa: E402


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)


def measure(messages: int, gap_ms: float, batch: int = 1) -> dict[str, Any]:
    import psycopg
    from django.db import connection

    import crypto
    from bench.seed_pairs import seed
    from crypto import ConversationKey, IdentityKeyPair
    from messaging.models import Message
    from messaging.services.writer import SendRequest, store_batch

    conversation = uuid.uuid4()
    client, therapist, key = (
        IdentityKeyPair.generate(),
        IdentityKeyPair.generate(),
        ConversationKey.generate(),
    )
    started = int(time.time() * 1000)
    envelopes = {
        side: crypto.b64encode(
            crypto.wrap_conversation_key(key, conversation, 0, member.public, client, started)
        )
        for side, member in (("client", client), ("therapist", therapist))
    }
    [made] = seed(
        [
            {
                "conversation": str(conversation),
                "client_identity": crypto.b64encode(client.public.to_bytes()),
                "therapist_identity": crypto.b64encode(therapist.public.to_bytes()),
                "client_envelope": envelopes["client"],
                "therapist_envelope": envelopes["therapist"],
            }
        ]
    )
    client_id = made["client"]
    assert isinstance(client_id, int)
    requests = []
    for _ in range(messages):
        message_id = uuid.uuid4()
        sealed = crypto.seal_message(bytes(1000), key, conversation, 0, client, message_id)
        requests.append(SendRequest(client_id, conversation, message_id, 0, sealed, client.public))

    statements: dict[str, list[float]] = {}
    execute = psycopg.Cursor.execute

    def timed(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        # Every statement, through Django's cursors or psycopg's own (the writer's).
        began = time.perf_counter()
        try:
            return execute(cursor, query, *args, **kwargs)
        finally:
            text = str(query)
            source = re.search(r"\bFROM\s+([\w\"]+)", text)
            name = " ".join(text.split()[:2]) + (f" … FROM {source[1]}" if source else "")
            statements.setdefault(name, []).append(time.perf_counter() - began)

    walls, cpus = [], []
    psycopg.Cursor.execute = timed  # type: ignore[method-assign,assignment]
    try:
        for start in range(0, messages, batch):
            began, cpu = time.perf_counter(), time.thread_time()
            results = store_batch(requests[start : start + batch])
            walls.append(time.perf_counter() - began)
            cpus.append(time.thread_time() - cpu)
            for result in results:
                if isinstance(result, Exception):
                    raise SystemExit(f"the writer refused a message: {result!r}")
            time.sleep(gap_ms / 1000)
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    batches = len(walls)
    round_trips = []
    with connection.cursor() as cursor:
        for _ in range(messages):
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            round_trips.append(time.perf_counter() - began)
    return {
        "messages": messages,
        "batch": batch,
        "stored": Message.objects.filter(conversation_id=conversation).count(),
        "batch_wall_ms": {"p50": _ms(walls, 0.5), "p90": _ms(walls, 0.9)},
        "writer_cpu_ms": {"p50": _ms(cpus, 0.5), "p90": _ms(cpus, 0.9)},
        # Each statement that most batches sent, its median time.
        "statements_p50_ms": {
            text: _ms(times, 0.5) for text, times in statements.items() if len(times) > batches / 2
        },
        "select_1_ms": {"p50": _ms(round_trips, 0.5)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--gap-ms", type=float, default=5)
    parser.add_argument("--batch", type=int, default=1, help="messages a batch")
    args = parser.parse_args()
    request = {"messages": args.messages, "gap_ms": args.gap_ms, "batch": args.batch}
    result = run_in_own_database(__file__, os.environ["DATABASE_URL"], "confide_floor", request)
    print(json.dumps(result))


def child() -> None:
    request = child_request()
    print(json.dumps(measure(request["messages"], request["gap_ms"], request["batch"])))


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child()
    else:
        main()
