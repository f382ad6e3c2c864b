"""The fixed people of the integration tests, made through the real flows.

* the therapist: the demo therapist of ``confide seed_demo``;
* the client: invited by the therapist with the Python client, and accepting with it;
* another therapist, in another practice (made as an operator would);
* another client: invited by the other therapist.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field

from portal.client import ConfideClient
from tests.integration.servers import Stack

_DEMO_THERAPIST = re.compile(r"^\s*Therapist\s+(\S+@\S+)\s+password:\s+(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Persona:
    email: str
    password: str = field(repr=False)
    user_id: int
    role: str


@dataclass(frozen=True)
class Personas:
    therapist: Persona
    client: Persona
    other_therapist: Persona
    other_client: Persona
    # The therapist's conversation with the client, and the other pair's.
    conversation: uuid.UUID
    other_conversation: uuid.UUID


def new_password() -> str:
    return secrets.token_urlsafe(16)


def new_email(role: str) -> str:
    return f"{role}-{secrets.token_hex(6)}@example.invalid"


def demo_therapist(stack: Stack) -> Persona:
    """Seeds the demo practice (once per stack) and reads the therapist's sign-in from it."""
    found = _DEMO_THERAPIST.search(stack.manage("seed_demo"))
    if found is None:
        raise RuntimeError("seed_demo printed no therapist credentials")
    email, password = found.groups()
    return Persona(email, password, user_id=0, role="therapist")


def other_therapist(stack: Stack) -> Persona:
    email, password = new_email("therapist"), new_password()
    request = {
        "email": email,
        "display_name": "Dr. Other",
        "practice": "Other Practice",
        "password": password,
    }
    answer = stack.manage("-m", "tests.integration.make_therapist", stdin=json.dumps(request))
    return Persona(email, password, user_id=int(json.loads(answer)["id"]), role="therapist")


async def signed_in_id(url: str, persona: Persona) -> Persona:
    """The persona with its user id, read by signing in."""
    async with ConfideClient(url) as client:
        account = await client.sign_in(persona.email, persona.password)
    return Persona(persona.email, persona.password, account.id, account.role)


async def invite_client(url: str, therapist: Persona) -> tuple[Persona, uuid.UUID]:
    """The therapist invites a new client, who accepts; returns them and the conversation."""
    async with ConfideClient(url) as inviter:
        await inviter.sign_in(therapist.email, therapist.password)
        invitation = await inviter.create_invitation("Client")
    email, password = new_email("client"), new_password()
    async with ConfideClient(url) as invited:
        sign_up = await invited.accept_invitation(invitation.token, email, "Client", password)
    return Persona(email, password, sign_up.account.id, "client"), sign_up.conversation


async def make_personas(stack: Stack, url: str) -> Personas:
    therapist = await signed_in_id(url, demo_therapist(stack))
    other = other_therapist(stack)
    client, conversation = await invite_client(url, therapist)
    other_client, other_conversation = await invite_client(url, other)
    return Personas(therapist, client, other, other_client, conversation, other_conversation)
