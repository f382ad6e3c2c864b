"""The fixed personas every access-control test uses, made directly in the database.

In one practice: Theo the therapist and his client Clara, who share a
conversation; Olive, another therapist, and her client Oscar, who share
another; and Ada, the practice admin. Each has real identity keys, so the
ciphertexts in tests are real sealed messages.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.test import Client

import crypto
from crypto import BundleKind, ConversationKey, IdentityKeyPair, WrappingKey
from messaging.models import Conversation, KeyEnvelope, Membership
from portal.accounts.models import Practice, Role, User

TEST_KDF = crypto.KdfParams(opslimit=2, memlimit=32 * 1024 * 1024)


@dataclass
class Person:
    user: User
    identity: IdentityKeyPair = field(repr=False)
    auth_secret: str = field(repr=False)

    @property
    def id(self) -> int:
        return self.user.pk

    def session_cookie(self) -> str:
        """A signed-in session, as the sign-in view would make it."""
        client = Client()
        client.force_login(self.user)
        return client.cookies["sessionid"].value


@dataclass
class Chat:
    conversation: Conversation
    key: ConversationKey = field(repr=False)
    members: tuple[Person, ...]

    @property
    def id(self) -> uuid.UUID:
        return self.conversation.id

    def seal(
        self,
        sender: Person,
        text: str,
        *,
        epoch: int = 0,
        client_message_id: uuid.UUID | None = None,
    ) -> tuple[uuid.UUID, bytes]:
        message_id = client_message_id or uuid.uuid4()
        wire = crypto.seal_text(text, self.key, self.id, epoch, sender.identity, message_id)
        return message_id, wire


def make_person(practice: Practice, role: Role, name: str) -> Person:
    identity = IdentityKeyPair.generate()
    auth_secret = crypto.b64encode(secrets.token_bytes(32))
    wrap = WrappingKey(secrets.token_bytes(32))
    user = User.objects.create(
        email=f"{name.lower()}@practice.invalid",
        password=make_password(auth_secret),
        display_name=name,
        role=role,
        practice=practice,
        kdf_salt=secrets.token_bytes(16),
        kdf_opslimit=TEST_KDF.opslimit,
        kdf_memlimit=TEST_KDF.memlimit,
        public_identity=identity.public.to_bytes(),
        key_bundle=crypto.wrap_identity(identity, wrap, BundleKind.PASSWORD),
        recovery_bundle=crypto.wrap_identity(identity, wrap, BundleKind.RECOVERY),
    )
    return Person(user, identity, auth_secret)


def make_chat(practice: Practice, therapist: Person, client: Person) -> Chat:
    conversation = Conversation.objects.create(practice=practice)
    key = ConversationKey.generate()
    for member in (client, therapist):
        Membership.objects.create(conversation=conversation, user=member.user)
        KeyEnvelope.objects.create(
            conversation=conversation,
            epoch=0,
            recipient=member.user,
            wrapper=client.user,
            envelope=crypto.wrap_conversation_key(
                key, conversation.id, 0, member.identity.public, client.identity
            ),
        )
    return Chat(conversation, key, (client, therapist))


@dataclass
class Practice5:
    practice: Practice
    therapist: Person
    client: Person
    other_therapist: Person
    other_client: Person
    admin: Person
    chat: Chat
    other_chat: Chat

    def outsiders(self) -> dict[str, Person]:
        """Everyone who is not a member of ``chat``."""
        return {
            "other client": self.other_client,
            "other therapist": self.other_therapist,
            "admin": self.admin,
        }


def make_practice() -> Practice5:
    practice = Practice.objects.create(name="Lakeside Counselling")
    theo = make_person(practice, Role.THERAPIST, "Theo")
    clara = make_person(practice, Role.CLIENT, "Clara")
    olive = make_person(practice, Role.THERAPIST, "Olive")
    oscar = make_person(practice, Role.CLIENT, "Oscar")
    ada = make_person(practice, Role.ADMIN, "Ada")
    return Practice5(
        practice,
        theo,
        clara,
        olive,
        oscar,
        ada,
        make_chat(practice, theo, clara),
        make_chat(practice, olive, oscar),
    )
