"""HTTP fixtures: the fixed personas, a browser-like client, and real sign-up material.

``Browser`` behaves like the portal's page: it enforces CSRF checks, so every POST first
asks ``GET /api/csrf`` for a token and sends it in ``X-CSRFToken``, as docs/protocol.md
requires. Accounts that must sign in for real are made the way seed_demo.py makes them,
with small Argon2id parameters (``TEST_KDF``) so that each derivation stays fast.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

import crypto
from accounts.models import Practice, Role, User
from crypto import (
    ConversationKey,
    IdentityKeyPair,
    PublicIdentity,
    SignUpMaterial,
    make_sign_up_material,
)
from tests.conftest import clear_cache
from tests.personas import TEST_KDF, Person, Practice5, make_practice, now_ms

PASSWORD = "correct horse battery staple"
ACCOUNT_EMAIL = "sam@practice.invalid"


@dataclass(frozen=True)
class Reply:
    """What a request answered, read once so that tests compare plain values."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.content)
        return body

    @property
    def code(self) -> str:
        """The error code of an error answer."""
        code: str = self.json()["error"]["code"]
        return code


class Browser:
    """A test client that sends the CSRF token with every POST, as the portal's page does."""

    def __init__(self, **defaults: Any) -> None:
        self.client = Client(enforce_csrf_checks=True, **defaults)

    def get(self, path: str) -> Reply:
        return self._reply(self.client.get(path))

    def put(self, path: str) -> Reply:
        """A method no endpoint takes (with the CSRF token, so that only the method is
        wrong)."""
        response = self.client.put(path, headers={"X-CSRFToken": self.csrf_token()})
        return self._reply(response)

    def put_json(self, path: str, body: Any) -> Reply:
        """PUTs ``body`` as JSON with a fresh CSRF token."""
        response = self.client.put(
            path,
            data=json.dumps(body).encode(),
            content_type="application/json",
            headers={"X-CSRFToken": self.csrf_token()},
        )
        return self._reply(response)

    def put_bytes(
        self, path: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> Reply:
        """PUTs raw bytes, as the portal's page sends a part of an attachment."""
        response = self.client.put(
            path, data=data, content_type=content_type, headers={"X-CSRFToken": self.csrf_token()}
        )
        return self._reply(response)

    def get_with(self, path: str, headers: dict[str, str]) -> Reply:
        return self._reply(self.client.get(path, headers=headers))

    def csrf_token(self) -> str:
        token: str = self.client.get("/api/csrf").json()["csrf_token"]
        return token

    def post(self, path: str, body: Any = None, *, raw: bytes | None = None) -> Reply:
        """POSTs ``body`` as JSON (or ``raw`` bytes as they are) with a fresh CSRF token."""
        return self.post_with_token(path, body, raw=raw, csrf_token=self.csrf_token())

    def post_with_token(
        self, path: str, body: Any = None, *, raw: bytes | None = None, csrf_token: str
    ) -> Reply:
        """POSTs with a CSRF token fetched earlier (no request in between)."""
        return self._post(path, body, raw, {"X-CSRFToken": csrf_token})

    def post_without_csrf(self, path: str, body: Any = None) -> Reply:
        """POSTs with no ``X-CSRFToken`` header, as a cross-site form would."""
        return self._post(path, body, None, {})

    def _post(self, path: str, body: Any, raw: bytes | None, headers: dict[str, str]) -> Reply:
        data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        response = self.client.post(
            path, data=data, content_type="application/json", headers=headers
        )
        return self._reply(response)

    def sign_in_as(self, person: Person) -> Browser:
        self.client.force_login(person.user)
        return self

    @property
    def session_key(self) -> str | None:
        cookie = self.client.cookies.get("sessionid")
        return cookie.value if cookie is not None and cookie.value else None

    def signed_in_user(self) -> int | None:
        """The id ``GET /api/me`` answers with, or None when it answers 401."""
        reply = self.get("/api/me")
        if reply.status == 401:
            return None
        assert reply.status == 200, reply.content
        user_id: int = reply.json()["user"]["id"]
        return user_id

    @staticmethod
    def _reply(response: Any) -> Reply:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        return Reply(response.status_code, dict(response.headers), content)


@pytest.fixture(autouse=True)
def clear_sign_in_counters() -> Iterator[None]:
    """Failed sign-ins are counted in the cache, which outlives a test's database."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(autouse=True)
def attachments_apart(attachment_folder: Path) -> Path:
    """No test stores attachments in the data directory."""
    return attachment_folder


@pytest.fixture
def world(db: None) -> Practice5:
    return make_practice()


@pytest.fixture
def browser() -> Browser:
    return Browser()


BrowserFor = Callable[[Person | None], Browser]


@pytest.fixture
def browser_for() -> BrowserFor:
    """A new browser, signed in as the person, or signed out for None."""

    def _browser_for(person: Person | None) -> Browser:
        browser = Browser()
        return browser if person is None else browser.sign_in_as(person)

    return _browser_for


@dataclass(frozen=True)
class Account:
    """An account made from real sign-up material, so that it can sign in with a password."""

    user: User
    material: SignUpMaterial = field(repr=False)
    password: str = field(repr=False)


def make_account(
    practice: Practice, email: str, role: Role = Role.THERAPIST, password: str = PASSWORD
) -> Account:
    """An account stored as seed_demo.py stores one."""
    material = make_sign_up_material(password, TEST_KDF)
    user = User.objects.create_account(
        email, material, display_name="Sam", role=role, practice=practice
    )
    return Account(user, material, password)


@pytest.fixture
def account(world: Practice5) -> Account:
    return make_account(world.practice, ACCOUNT_EMAIL)


@dataclass(frozen=True)
class Applicant:
    """A client-to-be: the keys a browser makes before accepting an invitation."""

    material: SignUpMaterial = field(repr=False)
    key: ConversationKey = field(repr=False)
    email: str = "nina@client.invalid"
    display_name: str = "Nina"
    # When the epoch began: every envelope of one epoch signs the same time.
    created_at: int = field(default_factory=now_ms)

    @property
    def identity(self) -> IdentityKeyPair:
        return self.material.identity

    def envelope(
        self,
        conversation: uuid.UUID,
        recipient: PublicIdentity,
        *,
        epoch: int = 0,
        wrapper: IdentityKeyPair | None = None,
    ) -> bytes:
        """The epoch key wrapped to ``recipient``, by this applicant unless told otherwise."""
        return crypto.wrap_conversation_key(
            self.key, conversation, epoch, recipient, wrapper or self.identity, self.created_at
        )

    def accept_body(
        self, token: str, conversation: uuid.UUID, therapist: PublicIdentity, **changes: Any
    ) -> dict[str, Any]:
        """The body of ``POST /api/invitations/accept``, right unless ``changes`` say not."""
        material = self.material
        body: dict[str, Any] = {
            "token": token,
            "email": self.email,
            "display_name": self.display_name,
            "auth_secret": crypto.b64encode(material.auth_secret),
            "kdf": {
                "salt": crypto.b64encode(material.salt),
                "opslimit": material.params.opslimit,
                "memlimit": material.params.memlimit,
                "algorithm": "argon2id13",
            },
            "public_identity": crypto.b64encode(material.public_identity.to_bytes()),
            "key_bundle": crypto.b64encode(material.key_bundle),
            "recovery_bundle": crypto.b64encode(material.recovery_bundle),
            "client_envelope": crypto.b64encode(
                self.envelope(conversation, material.public_identity)
            ),
            "therapist_envelope": crypto.b64encode(self.envelope(conversation, therapist)),
        }
        body.update(changes)
        return body


def make_applicant(email: str = "nina@client.invalid", password: str = PASSWORD) -> Applicant:
    return Applicant(make_sign_up_material(password, TEST_KDF), ConversationKey.generate(), email)


@dataclass(frozen=True)
class Invited:
    """An invitation as its therapist's browser received it."""

    token: str
    conversation: uuid.UUID
    therapist: Person


def invite(therapist: Person, client_name: str = "Nina") -> Invited:
    """Theo (or another therapist) asks for an invitation through the API."""
    reply = Browser().sign_in_as(therapist).post("/api/invitations", {"client_name": client_name})
    assert reply.status == 200, reply.content
    body = reply.json()
    return Invited(body["token"], uuid.UUID(body["conversation"]), therapist)


def accept_body(invited: Invited, applicant: Applicant, **changes: Any) -> dict[str, Any]:
    return applicant.accept_body(
        invited.token, invited.conversation, invited.therapist.identity.public, **changes
    )
