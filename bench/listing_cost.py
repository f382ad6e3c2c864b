"""What the conversation listing costs the server as history grows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/listing_cost.py [--clients 150] [--epochs 1 100] [--messages 10000]

For each number of epochs: a database of the run's own holding one therapist with
``--clients`` conversations, each with ``--messages`` messages spread evenly over its
epochs and one envelope per epoch for the therapist (as long as a real version-3
envelope; the listing only passes them on), the therapist five messages behind in each.
Then ``GET /api/conversations`` as the therapist, in this process, ``--runs`` times each
way (every envelope; the current epoch's only; its first page of 50; every page of 50):
the median time, the bytes and the requests. The rows are made inside PostgreSQL, as
bench/prefill.py makes them; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.own_database import child_request, run_in_own_database  # noqa: E402


def seed(clients: int, epochs: int, messages: int) -> Any:
    """The therapist, their clients and conversations; returns the therapist."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    import crypto
    from accounts.factors import totp
    from accounts.models import Practice, Role, User
    from messaging.models import Conversation, KeyEnvelope, Membership

    identity = crypto.IdentityKeyPair.generate()
    sample = crypto.wrap_conversation_key(
        crypto.ConversationKey.generate(),
        uuid.uuid4(),
        0,
        identity.public,
        identity,
        int(time.time() * 1000),
    )
    per_epoch = max(1, messages // epochs)
    # (A version from before ``epoch_start_seq`` runs this too, for the comparison.)
    fields = {field.name for field in Conversation._meta.fields}
    start = {"epoch_start_seq": per_epoch * (epochs - 1)} if "epoch_start_seq" in fields else {}

    def user(email: str, role: str) -> User:
        return User.objects.create_user(
            email,
            display_name=email.split("@")[0],
            role=role,
            practice=practice,
            public_identity=identity.public.to_bytes(),
            kdf_salt=b"",
            kdf_opslimit=2,
            kdf_memlimit=32 * 1024 * 1024,
            key_bundle=b"",
            recovery_bundle=b"",
        )

    with transaction.atomic():
        practice = Practice.objects.create(name="Listing bench")
        therapist = user("therapist@bench.invalid", Role.THERAPIST)
        totp.enrol_confirmed(therapist)  # staff need a second factor set up
        envelopes = []
        for index in range(clients):
            client = user(f"client-{index}@bench.invalid", Role.CLIENT)
            # Each last active an hour before the next newer one, as a practice's are.
            conversation = Conversation.objects.create(
                practice=practice,
                current_epoch=epochs - 1,
                last_seq=messages,
                last_message_at=timezone.now() - timedelta(hours=index),
                **start,
            )
            Membership.objects.create(
                conversation=conversation, user=therapist, last_read_seq=messages - 5
            )
            Membership.objects.create(conversation=conversation, user=client)
            envelopes += [
                KeyEnvelope(
                    conversation=conversation,
                    epoch=epoch,
                    recipient=therapist,
                    wrapper=therapist,
                    envelope=secrets.token_bytes(len(sample)),
                )
                for epoch in range(epochs)
            ]
        KeyEnvelope.objects.bulk_create(envelopes, batch_size=5000)
        with connection.cursor() as cursor:
            # Every message from the client, in epoch order, a 429-byte sealed message each.
            cursor.execute(
                "INSERT INTO messaging_message (conversation_id, seq, client_message_id,"
                " epoch, sender_id, ciphertext, created_at)"
                " SELECT m.conversation_id, s, gen_random_uuid(),"
                " LEAST((s - 1) / %s, %s), m.user_id, %s, now() - make_interval(mins => %s - s)"
                " FROM messaging_membership m CROSS JOIN generate_series(1, %s) AS s"
                " WHERE m.user_id <> %s",
                [per_epoch, epochs - 1, secrets.token_bytes(429), messages, messages, therapist.pk],
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return therapist


def measure(therapist: Any, runs: int) -> dict[str, Any]:
    """Each way of listing, ``runs`` times: every envelope (the Python client's), the
    current epoch's only (the web client's), its first page of 50, and all its pages."""
    from django.conf import settings
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    browser = Client()
    browser.force_login(therapist)

    def listing(query: str) -> tuple[float, int, int]:
        """The time, bytes and requests of a listing, its pages followed to the last."""
        began, size, requests = time.perf_counter(), 0, 0
        path: str | None = f"/api/conversations{query}"
        while path is not None:
            answer = browser.get(path, secure=True)
            assert answer.status_code == 200, answer.content[:300]
            size += len(answer.content)
            requests += 1
            following = answer.json().get("next")
            path = f"/api/conversations{query}&after={following}" if following else None
        return time.perf_counter() - began, size, requests

    result: dict[str, Any] = {}
    for name, query, whole in (
        ("all envelopes", "", True),
        ("current envelopes", "?envelopes=current", True),
        ("first page of 50", "?envelopes=current&limit=50", False),
        ("every page of 50", "?envelopes=current&limit=50", True),
    ):
        times, size, requests = [], 0, 0
        for _ in range(runs):
            if whole:
                elapsed, size, requests = listing(query)
            else:
                began = time.perf_counter()
                answer = browser.get(f"/api/conversations{query}", secure=True)
                elapsed, size, requests = time.perf_counter() - began, len(answer.content), 1
            times.append(elapsed)
        result[name] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "bytes": size,
            "requests": requests,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # Each size in a process of its own, on its own database.
    results = [
        run_in_own_database(
            __file__,
            os.environ["DATABASE_URL"],
            "confide_listing",
            {
                "clients": args.clients,
                "epochs": epochs,
                "messages": args.messages,
                "runs": args.runs,
            },
        )
        for epochs in args.epochs
    ]
    print(json.dumps(results, indent=2))


def child() -> None:
    request = child_request()
    started = time.perf_counter()
    therapist = seed(request["clients"], request["epochs"], request["messages"])
    seeded = time.perf_counter() - started
    result = {
        "clients": request["clients"],
        "epochs": request["epochs"],
        "messages_each": request["messages"],
        "seed_seconds": round(seeded, 1),
        **measure(therapist, request["runs"]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child()
    else:
        main()
