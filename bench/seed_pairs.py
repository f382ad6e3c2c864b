"""Creates the load generator's therapist-client pairs directly in a server's database.

    DJANGO_SETTINGS_MODULE=portal.settings python bench/seed_pairs.py < pairs.json

Reads, on stdin, what the generator made on its side (public identities, conversation ids and
the epoch-0 envelopes its clients wrapped; nothing secret), and writes, on stdout, each
user's id and a signed-in session key. The accounts are ordinary accounts of a practice of
their own; only the sign-in is skipped, because 2 × N Argon2id derivations would dominate
the set-up and are measured elsewhere (bench/crypto_costs.py).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import transaction  # noqa: E402

import crypto  # noqa: E402
from accounts.agreement import accept_agreement, current_agreement  # noqa: E402
from accounts.factors import totp  # noqa: E402
from accounts.models import Practice, Role, User  # noqa: E402
from messaging.models import Conversation, KeyEnvelope, Membership  # noqa: E402

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _user(practice: Practice, tag: str, index: int, role: str, identity: bytes) -> User:
    return User.objects.create_user(
        f"bench-{tag}-{role}-{index}@bench.invalid",
        auth_secret=crypto.b64encode(secrets.token_bytes(32)),
        display_name=f"Bench {role} {index}",
        role=role,
        practice=practice,
        kdf_salt=secrets.token_bytes(16),
        kdf_opslimit=2,
        kdf_memlimit=32 * 1024 * 1024,
        public_identity=identity,
        key_bundle=b"",
        recovery_bundle=b"",
    )


def _session(user: User) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = BACKEND
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    assert store.session_key is not None
    return store.session_key


def seed(pairs: list[dict[str, str]]) -> list[dict[str, object]]:
    tag = secrets.token_hex(4)
    out: list[dict[str, object]] = []
    with transaction.atomic():
        practice = Practice.objects.create(name=f"Bench practice {tag}")
        agreement = current_agreement(practice.pk)
        if agreement is None:
            raise RuntimeError("A new practice should start with the default agreement")
        for index, pair in enumerate(pairs):
            therapist = _user(
                practice, tag, index, Role.THERAPIST, crypto.b64decode(pair["therapist_identity"])
            )
            # Staff sockets need a second factor set up (the sign-in it guards is skipped).
            totp.enrol_confirmed(therapist)
            client = _user(
                practice, tag, index, Role.CLIENT, crypto.b64decode(pair["client_identity"])
            )
            # Clients send only once they accepted the practice's messaging agreement.
            accept_agreement(client, agreement.version)
            conversation = Conversation.objects.create(
                id=uuid.UUID(pair["conversation"]), practice=practice
            )
            for user, envelope in (
                (therapist, pair["therapist_envelope"]),
                (client, pair["client_envelope"]),
            ):
                Membership.objects.create(conversation=conversation, user=user)
                KeyEnvelope.objects.create(
                    conversation=conversation,
                    epoch=0,
                    recipient=user,
                    wrapper=client,
                    envelope=crypto.b64decode(envelope),
                )
            out.append(
                {
                    "therapist": therapist.pk,
                    "client": client.pk,
                    "therapist_session": _session(therapist),
                    "client_session": _session(client),
                }
            )
    return out


if __name__ == "__main__":
    json.dump(seed(json.load(sys.stdin)), sys.stdout)
