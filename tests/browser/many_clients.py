"""More clients for a therapist, seeded on a browser test's own server, with real keys:

    python -m tests.browser.many_clients < {"therapist": email, "clients": 60, "noted": 2,
                                            "note": text}

Each client gets a conversation with the therapist, its epoch-0 key wrapped by the client
to both of them, last active an hour before the next newer one, all older than anything
the demo holds. The ``noted`` oldest conversations each hold one message from their
client, ``note``, sealed for real. Prints those conversations' ids and their clients'
names, the oldest first.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
import uuid
from datetime import timedelta
from typing import Any


def seed(request: dict[str, Any]) -> list[dict[str, Any]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    import crypto
    from accounts.models import Role, User
    from messaging.models import Conversation, KeyEnvelope, Membership, Message

    therapist = User.objects.get(email=request["therapist"])
    therapist_public = crypto.PublicIdentity.from_bytes(bytes(therapist.public_identity))
    now = timezone.now()
    since = int(time.time() * 1000) - 86_400_000
    wrapped_at = int(time.time() * 1000) - 3_600_000
    noted: list[dict[str, Any]] = []
    with transaction.atomic():
        for index in range(request["clients"]):
            name = f"Listed Client {index + 1:03d}"
            identity = crypto.IdentityKeyPair.generate(since=since)
            client = User.objects.create_user(
                f"listed-{index}-{secrets.token_hex(3)}@clients.invalid",
                display_name=name,
                role=Role.CLIENT,
                practice=therapist.practice,
                public_identity=identity.public.to_bytes(),
                kdf_salt=b"",
                kdf_opslimit=2,
                kdf_memlimit=32 * 1024 * 1024,
                key_bundle=b"",
                recovery_bundle=b"",
            )
            active = now - timedelta(days=2, hours=index)
            conversation = Conversation.objects.create(
                practice=therapist.practice, created_at=active - timedelta(days=30)
            )
            key = crypto.ConversationKey.generate()
            for member, public in ((client, identity.public), (therapist, therapist_public)):
                Membership.objects.create(conversation=conversation, user=member)
                KeyEnvelope.objects.create(
                    conversation=conversation,
                    epoch=0,
                    recipient=member,
                    wrapper=client,
                    envelope=crypto.wrap_conversation_key(
                        key, conversation.id, 0, public, identity, wrapped_at
                    ),
                )
            last_seq = 0
            if index >= request["clients"] - request["noted"]:
                message_id = uuid.uuid4()
                Message.objects.create(
                    conversation=conversation,
                    seq=1,
                    client_message_id=message_id,
                    epoch=0,
                    sender=client,
                    ciphertext=crypto.seal_text(
                        request["note"], key, conversation.id, 0, identity, message_id
                    ),
                    created_at=active,
                )
                last_seq = 1
                noted.insert(0, {"conversation": str(conversation.id), "name": name})
            Conversation.objects.filter(pk=conversation.pk).update(
                last_seq=last_seq, last_message_at=active
            )
    return noted


if __name__ == "__main__":
    json.dump(seed(json.load(sys.stdin)), sys.stdout)
