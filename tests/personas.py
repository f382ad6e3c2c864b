"""The fixed people of every test, named the same in every layer.

In one practice: the therapist (Theo) and their client (Clara), who share a conversation;
another therapist (Olive) and her client (Oscar), who share another; and the practice
admin (Ada), who is in no conversation. Whatever the layer, a test names them
``therapist``, ``client``, ``other_therapist``, ``other_client`` and ``admin``.

- :func:`make_practice` makes them directly in the test database, with real identity
  keys, for the tests that run the server in-process (``http/``, ``messaging/``).
- :func:`make_live_personas` makes them through the real flows on a running server (the
  therapist is the demo therapist of ``confide seed_demo``; each client is invited and
  accepts with the Python client), for ``integration/``. The browser tests use the demo
  therapist and client (``tests/browser/conftest.py``).
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.hashers import make_password
from django.test import Client

import crypto
from accounts.agreement import DEFAULT_VERSION, accept_agreement
from accounts.factors import STAFF_ROLES
from accounts.factors import totp as totp_factor
from accounts.models import Practice, Role, User
from confide_client import Account, ConfideClient
from confide_client.second_factor import SecondFactor
from crypto import BundleKind, ConversationKey, IdentityKeyPair, WrappingKey
from harness.servers import Stack, new_email, new_password
from messaging.models import Conversation, KeyEnvelope, Membership
from tests.authenticator import next_code
from tests.passkey import SoftAuthenticator

TEST_KDF = crypto.KdfParams(opslimit=2, memlimit=32 * 1024 * 1024)

# Who is who, in every layer of the tests.
NAMES = {
    "therapist": "Theo",
    "client": "Clara",
    "other_therapist": "Olive",
    "other_client": "Oscar",
    "admin": "Ada",
}


def now_ms() -> int:
    """Now, in milliseconds since 1970: an epoch's signed creation time."""
    return int(time.time() * 1000)


@dataclass
class Person:
    user: User
    identity: IdentityKeyPair = field(repr=False)
    auth_secret: str = field(repr=False)
    # The base32 secret of their authenticator app, when they have one.
    totp_secret: str | None = field(default=None, repr=False)

    def totp_code(self) -> str:
        """The code their authenticator app shows (one the server has not taken yet)."""
        if self.totp_secret is None:
            raise LookupError(f"{self.user.display_name} has no authenticator app")
        return next_code(self.totp_secret)

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


def make_person(practice: Practice, role: Role, name: str, *, totp: bool | None = None) -> Person:
    """Someone of ``practice``, with real identity keys. ``totp``: whether they have an
    authenticator app; by default, as their role requires (therapists and admins do,
    clients do not)."""
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
    enrol = role in STAFF_ROLES if totp is None else totp
    secret = totp_factor.enrol_confirmed(user).base32 if enrol else None
    return Person(user, identity, auth_secret, secret)


def make_chat(practice: Practice, therapist: Person, client: Person) -> Chat:
    conversation = Conversation.objects.create(practice=practice)
    key = ConversationKey.generate()
    created_at = now_ms()
    for member in (client, therapist):
        Membership.objects.create(conversation=conversation, user=member.user)
        KeyEnvelope.objects.create(
            conversation=conversation,
            epoch=0,
            recipient=member.user,
            wrapper=client.user,
            envelope=crypto.wrap_conversation_key(
                key, conversation.id, 0, member.identity.public, client.identity, created_at
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


def make_practice(*, agreed: bool = True) -> Practice5:
    """The five personas in a practice of their own (with the default messaging agreement).
    The clients have accepted it, as every client has before messaging, unless ``agreed``
    is False (the tests of the agreement itself)."""
    practice = Practice.objects.create(name="Lakeside Counselling")
    theo = make_person(practice, Role.THERAPIST, NAMES["therapist"])
    clara = make_person(practice, Role.CLIENT, NAMES["client"])
    olive = make_person(practice, Role.THERAPIST, NAMES["other_therapist"])
    oscar = make_person(practice, Role.CLIENT, NAMES["other_client"])
    ada = make_person(practice, Role.ADMIN, NAMES["admin"])
    if agreed:
        for client in (clara, oscar):
            accept_agreement(client.user, DEFAULT_VERSION)
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


# --- made through the real flows, on a running server -------------------------------------

# The lines of ``confide seed_demo``: each account's password, and the authenticator app's
# URI of the therapist and the admin.
_DEMO_PASSWORD = re.compile(r"^\s+(\S+)\s+(\S+@\S+)\s+password: (\S+)\s*$", re.MULTILINE)
_DEMO_AUTHENTICATOR = re.compile(r"^\s+\S+\s+(\S+@\S+)\s+authenticator: (\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class LivePersona:
    """Someone with an account on a running server, who signs in with a password and, for
    a therapist or admin, a second factor: the authenticator app of ``totp_secret`` (as a
    person types its code, at most a few times a minute), and a passkey held in software,
    which the Python client answers with (as often as it likes)."""

    email: str
    password: str = field(repr=False)
    user_id: int
    role: str
    totp_secret: str | None = field(default=None, repr=False)
    passkey: SoftAuthenticator | None = field(default=None, repr=False)

    def second_factor(self) -> SecondFactor | None:
        """What ``ConfideClient.sign_in`` takes: their app's next code, asked when needed."""
        secret = self.totp_secret
        if secret is None:
            return None
        return lambda methods: next_code(secret)

    async def sign_in(self, client: ConfideClient) -> Account:
        passkey = self.passkey.answer_at(client.server_url) if self.passkey else None
        return await client.sign_in(
            self.email, self.password, second_factor=self.second_factor(), passkey=passkey
        )


def give_passkeys(stack: Stack, personas: list[LivePersona]) -> list[LivePersona]:
    """The personas, each therapist and admin with a passkey added to their account."""
    staff = [p for p in personas if p.role in STAFF_ROLES]
    keys = {p.email: SoftAuthenticator() for p in staff}
    if keys:
        added = [
            {
                "email": email,
                "credential_id": crypto.b64encode(key.credential_id),
                "public_key": crypto.b64encode(key.public_key()),
            }
            for email, key in keys.items()
        ]
        stack.manage("-m", "harness.add_passkey", stdin=json.dumps(added))
    return [replace(p, passkey=keys.get(p.email)) for p in personas]


def demo_personas(seed_output: str) -> dict[str, LivePersona]:
    """The demo's people by role (``therapist``, ``client``, ``admin``), from what
    ``confide seed_demo`` printed."""
    secrets_by_email = {
        email: parse_qs(urlsplit(uri).query)["secret"][0]
        for email, uri in _DEMO_AUTHENTICATOR.findall(seed_output)
    }
    return {
        role.lower(): LivePersona(
            email, password, 0, role.lower(), totp_secret=secrets_by_email.get(email)
        )
        for role, email, password in _DEMO_PASSWORD.findall(seed_output)
    }


@dataclass(frozen=True)
class LivePersonas:
    therapist: LivePersona
    client: LivePersona
    other_therapist: LivePersona
    other_client: LivePersona
    admin: LivePersona
    # The therapist's conversation with the client, and the other pair's.
    conversation: uuid.UUID
    other_conversation: uuid.UUID


def demo_therapist(stack: Stack) -> LivePersona:
    """Seeds the demo practice (once per stack) and reads the therapist's sign-in from it;
    the therapist gets a passkey for the tests' clients."""
    therapist = demo_personas(stack.manage("seed_demo")).get("therapist")
    if therapist is None or therapist.totp_secret is None:
        raise RuntimeError("seed_demo printed no therapist credentials")
    [with_passkey] = give_passkeys(stack, [therapist])
    return with_passkey


def operator_made(stack: Stack, who: str, role: Role, practice: str) -> LivePersona:
    """An account made on the server as an operator would (``make_account.py``)."""
    email, password = new_email(who), new_password()
    request = {
        "email": email,
        "display_name": NAMES[who],
        "role": str(role),
        "practice": practice,
        "password": password,
    }
    made = json.loads(stack.manage("-m", "harness.make_account", stdin=json.dumps(request)))
    persona = LivePersona(
        email, password, int(made["id"]), str(role), totp_secret=made.get("totp_secret")
    )
    [with_passkey] = give_passkeys(stack, [persona])
    return with_passkey


async def signed_in_id(url: str, persona: LivePersona) -> LivePersona:
    """The persona with its user id, read by signing in."""
    async with ConfideClient(url) as client:
        account = await persona.sign_in(client)
    return replace(persona, user_id=account.id, role=account.role)


async def invite_client(
    url: str, therapist: LivePersona, who: str = "client"
) -> tuple[LivePersona, uuid.UUID]:
    """The therapist invites a new client, who accepts, and then accepts the practice's
    messaging agreement (as every client does before their first message); returns them
    and the conversation."""
    async with ConfideClient(url) as inviter:
        await therapist.sign_in(inviter)
        invitation = await inviter.create_invitation(NAMES[who])
    email, password = new_email(who), new_password()
    async with ConfideClient(url) as invited:
        sign_up = await invited.accept_invitation(invitation.fragment, email, NAMES[who], password)
    client = LivePersona(email, password, sign_up.account.id, "client")
    await accept_agreement_live(url, client)
    return client, sign_up.conversation


async def accept_agreement_live(url: str, persona: LivePersona) -> str:
    """The persona signs in and accepts their practice's current messaging agreement, as
    the client's ``agreement()`` and ``accept_agreement()`` do it; returns the version."""
    async with ConfideClient(url) as client:
        await persona.sign_in(client)
        current = await client.agreement()
        await client.accept_agreement(current.version)
        await client.sign_out()
    return current.version


async def make_live_personas(stack: Stack, url: str) -> LivePersonas:
    therapist = await signed_in_id(url, demo_therapist(stack))
    other = operator_made(stack, "other_therapist", Role.THERAPIST, "Another Practice")
    admin = operator_made(stack, "admin", Role.ADMIN, "Demo Practice")
    client, conversation = await invite_client(url, therapist)
    other_client, other_conversation = await invite_client(url, other, "other_client")
    return LivePersonas(
        therapist, client, other, other_client, admin, conversation, other_conversation
    )
