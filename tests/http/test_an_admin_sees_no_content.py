"""A practice admin holds no conversation key and sees no content: whatever endpoint of the
persona matrix Ada calls as herself, no answer carries a message's ciphertext, a key
envelope, anyone else's wrapped keys, or a conversation's id."""

from __future__ import annotations

import uuid

import pytest

import crypto
from accounts.models import User
from messaging.models import KeyEnvelope, Message
from tests.http.conftest import Browser
from tests.http.test_http_authorisation import ENDPOINTS
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def secrets_of_the_practice(world: Practice5) -> dict[str, str]:
    """Every value an admin must never be answered with, by what it is."""
    found: dict[str, str] = {}
    for chat, sender in ((world.chat, world.client), (world.other_chat, world.other_therapist)):
        message_id, wire = chat.seal(sender, f"private words {uuid.uuid4()}")
        Message.objects.create(
            conversation=chat.conversation,
            seq=1,
            client_message_id=message_id,
            epoch=0,
            sender=sender.user,
            ciphertext=wire,
        )
        found[f"ciphertext in {chat.id}"] = crypto.b64encode(wire)
        found[f"conversation id {chat.id}"] = str(chat.id)
    for envelope in KeyEnvelope.objects.all():
        found[f"envelope {envelope.pk}"] = crypto.b64encode(bytes(envelope.envelope))
    for user in User.objects.exclude(pk=world.admin.id):
        found[f"key bundle of {user.display_name}"] = crypto.b64encode(bytes(user.key_bundle))
        found[f"recovery bundle of {user.display_name}"] = crypto.b64encode(
            bytes(user.recovery_bundle)
        )
    return found


# What anyone may call signed out (signing in with Clara's secret, beginning a recovery of
# her account) answers the admin as it answers anyone: it shows nothing of being an admin.
SIGNED_IN_ONLY = [endpoint for endpoint in ENDPOINTS if endpoint.expected["signed out"] != 200]


@pytest.mark.parametrize(
    "endpoint", SIGNED_IN_ONLY, ids=[endpoint.label for endpoint in SIGNED_IN_ONLY]
)
def test_no_answer_to_the_admin_carries_content_or_keys(world: Practice5, endpoint: object) -> None:
    secrets = secrets_of_the_practice(world)
    reply = endpoint.call(Browser().sign_in_as(world.admin), world)  # type: ignore[attr-defined]
    text = reply.content.decode()
    leaked = [what for what, value in secrets.items() if value in text]
    assert not leaked, f"{endpoint.label} answered the admin with {leaked}"  # type: ignore[attr-defined]


def test_the_admin_console_answers_name_people_not_conversations(world: Practice5) -> None:
    secrets_of_the_practice(world)
    ada = Browser().sign_in_as(world.admin)
    for path in (
        "/api/admin/members",
        "/api/admin/invitations",
        "/api/admin/setup-links",
        "/api/admin/agreement",
        "/api/admin/practice",
        "/api/conversations",
    ):
        reply = ada.get(path)
        assert reply.status == 200, (path, reply.content)
        for word in ("ciphertext", "envelope", "key_bundle", 'conversation"'):
            assert word not in reply.content.decode(), (path, word)
