"""Who may call which endpoint: every API route against every persona, from one table.

A new route must be added to ``ENDPOINTS`` before this file passes, so no endpoint ships
without someone deciding who may call it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

import crypto
from accounts.models import Role
from accounts.setup import NewSetupLink, create_setup_link
from crypto import PublicIdentity
from crypto.attachment import attachment_ciphertext_size, attachment_digest
from messaging.services.attachments import (
    complete_upload,
    start_upload,
    store_part,
)
from messaging.services.invitations import create_invitation
from messaging.urls import urlpatterns
from tests.http.assisted import ask, new_material, pending_of, request_body, rewrap, succession
from tests.http.conftest import Browser, BrowserFor, Reply, accept_body, invite, make_applicant
from tests.http.practice import setup_accept_body, staff_material
from tests.http.recovery import begin, finish_body, give_recovery_key, material_for
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db

PERSONAS = ("signed out", "Clara", "Theo", "Olive", "Oscar", "Ada")

ERROR_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    410: "invitation_invalid",
}


def persona(world: Practice5, name: str) -> Person | None:
    return {
        "signed out": None,
        "Clara": world.client,
        "Theo": world.therapist,
        "Olive": world.other_therapist,
        "Oscar": world.other_client,
        "Ada": world.admin,
    }[name]


def expect(
    *, signed_out: int, clara: int, theo: int, olive: int, oscar: int, ada: int
) -> dict[str, int]:
    """The status each persona gets; Theo and Clara share ``chat``, Olive and Oscar
    ``other_chat``, Ada is the admin."""
    return dict(zip(PERSONAS, (signed_out, clara, theo, olive, oscar, ada), strict=True))


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


def signed_in(status: int) -> dict[str, int]:
    return {**everyone(status), "signed out": 401}


def no_args(world: Practice5) -> dict[str, Any]:
    return {}


def no_body(world: Practice5) -> Any:
    return None


@dataclass(frozen=True)
class Endpoint:
    label: str
    route: str
    method: str
    expected: dict[str, int]
    kwargs: Callable[[Practice5], dict[str, Any]] = field(default=no_args)
    body: Callable[[Practice5], Any] = field(default=no_body)
    # Error codes of this row where they are not those of ERROR_CODES.
    codes: dict[int, str] = field(default_factory=dict)
    # A body of raw bytes instead of JSON (a part of an attachment).
    raw: Callable[[Practice5], bytes] | None = None

    def path(self, world: Practice5) -> str:
        return reverse(self.route, kwargs=self.kwargs(world))

    def call(self, browser: Browser, world: Practice5) -> Reply:
        if self.method == "GET":
            return browser.get(self.path(world))
        if self.method == "PUT" and self.raw is not None:
            return browser.put_bytes(self.path(world), self.raw(world))
        if self.method == "PUT":
            return browser.put_json(self.path(world), self.body(world))
        return browser.post(self.path(world), self.body(world))


def theo_clara(world: Practice5) -> dict[str, Any]:
    return {"conversation_id": world.chat.id}


def olive_oscar(world: Practice5) -> dict[str, Any]:
    return {"conversation_id": world.other_chat.id}


def nowhere(world: Practice5) -> dict[str, Any]:
    return {"conversation_id": uuid.uuid4()}


def pending_invitation(world: Practice5) -> dict[str, Any]:
    return {"token": create_invitation(world.therapist.user, "Nina").token}


def theos_invitation(world: Practice5) -> dict[str, Any]:
    return {"invitation_id": create_invitation(world.therapist.user, "Nina").invitation.pk}


def sign_up_through_theos_invitation(world: Practice5) -> dict[str, Any]:
    return accept_body(invite(world.therapist), make_applicant())


ADMIN_ONLY = expect(signed_out=401, clara=403, theo=403, olive=403, oscar=403, ada=200)


def ada_setup_link(world: Practice5) -> NewSetupLink:
    return create_setup_link(
        world.practice, Role.THERAPIST, "wren@practice.invalid", "Wren", world.admin.user
    )


def join_through_adas_setup_link(world: Practice5) -> dict[str, Any]:
    return setup_accept_body(ada_setup_link(world).token, staff_material())


def practice_settings(world: Practice5) -> dict[str, Any]:
    return {
        "name": "Lakeside",
        "time_zone": "America/Chicago",
        "crisis_lines": [{"label": "Emergency", "number": "911"}],
        "reply_promise": "Within a day.",
    }


def recover_claras_account(world: Practice5) -> dict[str, Any]:
    """A recovery of Clara's account, begun in a browser of its own: only the email
    named in the body is acted on, whoever sends it."""
    email = world.client.user.email
    key = give_recovery_key(world.client)
    return finish_body(material_for(begin(Browser(), email), key, email))


def claras_pending_recovery(world: Practice5) -> dict[str, Any]:
    """Clara asked, in a browser of her own, to recover her account through Theo."""
    ask(world.client.user.email)
    return {"recovery_id": pending_of(world.client).pk}


def theos_envelopes_for_claras_recovery(world: Practice5) -> dict[str, Any]:
    """Every epoch key of Theo and Clara's conversation, wrapped by Theo to the identity
    of Clara's pending request."""
    pending = PublicIdentity.from_bytes(bytes(pending_of(world.client).public_identity))
    return {"envelopes": rewrap(world.therapist, world.chat.id, pending)}


def theos_confirmation_of_claras_recovery(world: Practice5) -> dict[str, Any]:
    """Theo's envelopes, and the succession he signs: Clara's identity is replaced by the
    one of her pending request."""
    recovery_id = pending_of(world.client).pk
    return {
        **theos_envelopes_for_claras_recovery(world),
        "succession": succession(world.therapist, recovery_id),
    }


# Theo's upload: a file of 1,000 bytes, in one part.
THEOS_PART = bytes(attachment_ciphertext_size(1000))


def theos_upload(world: Practice5) -> dict[str, Any]:
    """Theo began an upload in his conversation with Clara; no part is sent yet."""
    upload = start_upload(world.therapist.user, world.chat.id, len(THEOS_PART))
    return {"attachment_id": upload.attachment.pk}


def theos_upload_part(world: Practice5) -> dict[str, Any]:
    return {**theos_upload(world), "number": 0}


def theos_upload_with_its_part(world: Practice5) -> dict[str, Any]:
    attachment_id = theos_upload(world)["attachment_id"]
    store_part(world.therapist.user, attachment_id, 0, THEOS_PART)
    return {"attachment_id": attachment_id}


def theos_digest(world: Practice5) -> dict[str, Any]:
    digest = attachment_digest(THEOS_PART)
    return {"digest": crypto.b64encode(digest)}


def claras_attachment(world: Practice5) -> dict[str, Any]:
    """Clara's complete attachment, in her conversation with Theo."""
    data = bytes(attachment_ciphertext_size(10))
    attachment_id = start_upload(world.client.user, world.chat.id, len(data)).attachment.pk
    store_part(world.client.user, attachment_id, 0, data)
    digest = attachment_digest(data)
    complete_upload(world.client.user, attachment_id, digest)
    return {"attachment_id": attachment_id}


ATTACHMENT_MEMBERS = expect(signed_out=401, clara=200, theo=200, olive=404, oscar=404, ada=403)
THEOS_UPLOAD_ONLY = expect(signed_out=401, clara=404, theo=200, olive=404, oscar=404, ada=403)

# The shape of a succession, for a request that is refused before any is read.
ANY_SUCCESSION = crypto.b64encode(bytes(crypto.SUCCESSION_SIZE))

THEOS_CLIENT_ONLY = expect(signed_out=401, clara=403, theo=200, olive=404, oscar=403, ada=403)
THERAPISTS_NOT_FOUND = expect(signed_out=401, clara=403, theo=404, olive=404, oscar=403, ada=403)

ENDPOINTS = [
    Endpoint("csrf", "api-csrf", "GET", everyone(200)),
    Endpoint(
        "params",
        "api-auth-params",
        "POST",
        everyone(200),
        body=lambda world: {"email": world.client.user.email},
    ),
    Endpoint(
        "sign in as Clara",
        "api-auth-signin",
        "POST",
        everyone(200),
        body=lambda world: {
            "email": world.client.user.email,
            "auth_secret": world.client.auth_secret,
        },
    ),
    # Nobody's browser here has a sign-in waiting for its second factor.
    Endpoint(
        "finish a sign-in with a second factor",
        "api-auth-signin-second-factor",
        "POST",
        everyone(410),
        body=lambda world: {"totp": "123456"},
        codes={410: "second_factor_expired"},
    ),
    Endpoint(
        "ask for a passkey challenge to finish a sign-in",
        "api-auth-signin-passkey-options",
        "POST",
        everyone(410),
        codes={410: "second_factor_expired"},
    ),
    Endpoint("sign out", "api-auth-signout", "POST", everyone(200)),
    Endpoint(
        "begin a recovery of Clara's account",
        "api-auth-recover-begin",
        "POST",
        everyone(200),
        body=lambda world: {"email": world.client.user.email},
    ),
    Endpoint(
        "finish a recovery of Clara's account",
        "api-auth-recover-finish",
        "POST",
        everyone(200),
        body=recover_claras_account,
    ),
    Endpoint(
        "ask to recover Clara's account through her therapist",
        "api-auth-assisted-recovery",
        "POST",
        everyone(200),
        body=lambda world: request_body(world.client.user.email, new_material()),
    ),
    Endpoint(
        "list the pending recoveries of one's clients",
        "api-recoveries",
        "GET",
        expect(signed_out=401, clara=403, theo=200, olive=200, oscar=403, ada=403),
    ),
    Endpoint(
        "give envelopes for Clara's recovery",
        "api-recovery-envelopes",
        "POST",
        THEOS_CLIENT_ONLY,
        kwargs=claras_pending_recovery,
        body=theos_envelopes_for_claras_recovery,
    ),
    Endpoint(
        "give envelopes for a recovery that does not exist",
        "api-recovery-envelopes",
        "POST",
        THERAPISTS_NOT_FOUND,
        kwargs=lambda world: {"recovery_id": 999_999},
        body=lambda world: {"envelopes": []},
    ),
    Endpoint(
        "confirm Clara's recovery",
        "api-recovery-confirm",
        "POST",
        THEOS_CLIENT_ONLY,
        kwargs=claras_pending_recovery,
        body=theos_confirmation_of_claras_recovery,
    ),
    Endpoint(
        "confirm a recovery that does not exist",
        "api-recovery-confirm",
        "POST",
        THERAPISTS_NOT_FOUND,
        kwargs=lambda world: {"recovery_id": 999_999},
        body=lambda world: {"envelopes": [], "succession": ANY_SUCCESSION},
    ),
    Endpoint(
        "decline Clara's recovery",
        "api-recovery-decline",
        "POST",
        THEOS_CLIENT_ONLY,
        kwargs=claras_pending_recovery,
    ),
    Endpoint(
        "decline a recovery that does not exist",
        "api-recovery-decline",
        "POST",
        THERAPISTS_NOT_FOUND,
        kwargs=lambda world: {"recovery_id": 999_999},
    ),
    Endpoint("me", "api-me", "GET", signed_in(200)),
    Endpoint("read one's email notifications", "api-me-notifications", "GET", signed_in(200)),
    Endpoint(
        "turn one's email notifications off",
        "api-me-notifications",
        "POST",
        signed_in(200),
        body=lambda world: {"email": False},
    ),
    Endpoint(
        "read one's availability",
        "api-me-availability",
        "GET",
        expect(signed_out=401, clara=403, theo=200, olive=200, oscar=403, ada=403),
    ),
    Endpoint(
        "set one's availability",
        "api-me-availability",
        "POST",
        expect(signed_out=401, clara=403, theo=200, olive=200, oscar=403, ada=403),
        body=lambda world: {"office_hours": [{"day": 0, "start": "09:00", "end": "17:00"}]},
    ),
    Endpoint("read one's pins", "api-me-pins", "GET", signed_in(200)),
    # A record that is not one is refused for everyone signed in, before anything else.
    Endpoint(
        "write one's pins, not a record",
        "api-me-pins",
        "PUT",
        signed_in(400),
        body=lambda world: {"record": "AQID", "previous": 0},
    ),
    # Only the version-2 form of one's own keys is published: another's keys, for everyone.
    Endpoint(
        "publish an identity of other keys as one's own",
        "api-me-identity",
        "POST",
        signed_in(400),
        body=lambda world: {
            "public_identity": crypto.b64encode(crypto.IdentityKeyPair.generate().public.to_bytes())
        },
    ),
    Endpoint("read the server's push key", "api-me-push", "GET", signed_in(200)),
    # Read before anything else, so whether this server has a VAPID key does not matter.
    Endpoint(
        "subscribe a browser to push, without its keys",
        "api-me-push-subscribe",
        "POST",
        signed_in(400),
        body=lambda world: {"endpoint": "https://fcm.googleapis.com/fcm/send/x"},
    ),
    Endpoint(
        "unsubscribe a browser nobody subscribed",
        "api-me-push-unsubscribe",
        "POST",
        signed_in(404),
        body=lambda world: {"endpoint": "https://fcm.googleapis.com/fcm/send/none"},
    ),
    Endpoint("list one's second factors", "api-2fa", "GET", signed_in(200)),
    Endpoint("begin setting up an authenticator app", "api-2fa-totp-begin", "POST", signed_in(200)),
    # Nobody here began setting one up.
    Endpoint(
        "confirm an authenticator app",
        "api-2fa-totp-confirm",
        "POST",
        signed_in(410),
        body=lambda world: {"code": "123456"},
        codes={410: "second_factor_expired"},
    ),
    Endpoint(
        "begin adding a passkey",
        "api-2fa-webauthn-register-begin",
        "POST",
        signed_in(200),
    ),
    Endpoint(
        "finish adding a passkey",
        "api-2fa-webauthn-register-finish",
        "POST",
        signed_in(410),
        body=lambda world: {"credential": {"id": "AA"}, "name": "Laptop"},
        codes={410: "second_factor_expired"},
    ),
    # Staff keep their one factor; the clients have none to remove.
    Endpoint(
        "remove one's authenticator app",
        "api-2fa-remove",
        "POST",
        expect(signed_out=401, clara=404, theo=403, olive=403, oscar=404, ada=403),
        body=lambda world: {"factor": "totp", "totp": "123456"},
    ),
    Endpoint("read the messaging agreement", "api-agreement", "GET", signed_in(200)),
    Endpoint(
        "accept the messaging agreement",
        "api-agreement",
        "POST",
        expect(signed_out=401, clara=200, theo=403, olive=403, oscar=200, ada=403),
        body=lambda world: {"version": "2025-1"},
    ),
    Endpoint(
        "list one's invitations",
        "api-invitations",
        "GET",
        expect(signed_out=401, clara=403, theo=200, olive=200, oscar=403, ada=403),
    ),
    Endpoint(
        "create an invitation",
        "api-invitations",
        "POST",
        expect(signed_out=401, clara=403, theo=200, olive=200, oscar=403, ada=403),
        body=lambda world: {"client_name": "Nina"},
    ),
    Endpoint(
        "look up an invitation",
        "api-invitation-lookup",
        "POST",
        everyone(200),
        body=pending_invitation,
    ),
    Endpoint(
        "accept an invitation",
        "api-invitation-accept",
        "POST",
        everyone(200),
        body=sign_up_through_theos_invitation,
    ),
    Endpoint(
        "revoke Theo's invitation",
        "api-invitation-revoke",
        "POST",
        expect(signed_out=401, clara=403, theo=200, olive=404, oscar=403, ada=403),
        kwargs=theos_invitation,
    ),
    Endpoint(
        "revoke an invitation that does not exist",
        "api-invitation-revoke",
        "POST",
        expect(signed_out=401, clara=403, theo=404, olive=404, oscar=403, ada=403),
        kwargs=lambda world: {"invitation_id": 999_999},
    ),
    Endpoint(
        "give Theo's invitation a new link",
        "api-invitation-renew",
        "POST",
        expect(signed_out=401, clara=403, theo=200, olive=404, oscar=403, ada=403),
        kwargs=theos_invitation,
    ),
    Endpoint(
        "give an invitation that does not exist a new link",
        "api-invitation-renew",
        "POST",
        expect(signed_out=401, clara=403, theo=404, olive=404, oscar=403, ada=403),
        kwargs=lambda world: {"invitation_id": 999_999},
    ),
    Endpoint(
        "look up a setup link",
        "api-setup-lookup",
        "POST",
        everyone(200),
        body=lambda world: {"token": ada_setup_link(world).token},
    ),
    Endpoint(
        "join through a setup link",
        "api-setup-accept",
        "POST",
        everyone(200),
        body=join_through_adas_setup_link,
    ),
    Endpoint("read the practice settings", "api-admin-practice", "GET", ADMIN_ONLY),
    Endpoint(
        "change the practice settings",
        "api-admin-practice",
        "POST",
        ADMIN_ONLY,
        body=practice_settings,
    ),
    Endpoint("list the practice's members", "api-admin-members", "GET", ADMIN_ONLY),
    Endpoint(
        "reactivate Theo",
        "api-admin-member-active",
        "POST",
        ADMIN_ONLY,
        kwargs=lambda world: {"user_id": world.therapist.id},
        body=lambda world: {"active": True},
    ),
    Endpoint("list setup links", "api-admin-setup-links", "GET", ADMIN_ONLY),
    Endpoint(
        "make a setup link",
        "api-admin-setup-links",
        "POST",
        ADMIN_ONLY,
        body=lambda world: {
            "role": "therapist",
            "email": "wren@practice.invalid",
            "display_name": "Wren",
        },
    ),
    Endpoint(
        "revoke a setup link",
        "api-admin-setup-link-revoke",
        "POST",
        ADMIN_ONLY,
        kwargs=lambda world: {"link_id": ada_setup_link(world).link.pk},
    ),
    Endpoint("list the practice's invitations", "api-admin-invitations", "GET", ADMIN_ONLY),
    Endpoint(
        "revoke Theo's invitation as the admin",
        "api-admin-invitation-revoke",
        "POST",
        ADMIN_ONLY,
        kwargs=theos_invitation,
    ),
    Endpoint("read the agreement's versions", "api-admin-agreement", "GET", ADMIN_ONLY),
    Endpoint("list the discharged conversations", "api-admin-records", "GET", ADMIN_ONLY),
    Endpoint(
        "request the erasure of Theo and Clara's conversation, still active",
        "api-admin-record-erase",
        "POST",
        expect(signed_out=401, clara=403, theo=403, olive=403, oscar=403, ada=400),
        kwargs=theo_clara,
        body=lambda world: {"reason": "client_request"},
    ),
    Endpoint(
        "request the erasure of a conversation that does not exist",
        "api-admin-record-erase",
        "POST",
        expect(signed_out=401, clara=403, theo=403, olive=403, oscar=403, ada=404),
        kwargs=nowhere,
        body=lambda world: {"reason": "client_request"},
    ),
    Endpoint("read the audit log", "api-admin-audit", "GET", ADMIN_ONLY),
    Endpoint("download the audit log", "api-admin-audit-csv", "GET", ADMIN_ONLY),
    Endpoint(
        "publish an agreement version",
        "api-admin-agreement",
        "POST",
        ADMIN_ONLY,
        body=lambda world: {
            "based_on": "2025-1",
            "sections": [{"heading": "New", "paragraphs": ["A new text."]}],
        },
    ),
    Endpoint("list conversations", "api-conversations", "GET", signed_in(200)),
    Endpoint(
        "Theo and Clara's conversation",
        "api-conversation",
        "GET",
        expect(signed_out=401, clara=200, theo=200, olive=404, oscar=404, ada=404),
        kwargs=theo_clara,
    ),
    Endpoint(
        "Olive and Oscar's conversation",
        "api-conversation",
        "GET",
        expect(signed_out=401, clara=404, theo=404, olive=200, oscar=200, ada=404),
        kwargs=olive_oscar,
    ),
    Endpoint(
        "a conversation that does not exist",
        "api-conversation",
        "GET",
        signed_in(404),
        kwargs=nowhere,
    ),
    Endpoint(
        "Theo's availability in Theo and Clara's conversation",
        "api-conversation-availability",
        "GET",
        expect(signed_out=401, clara=200, theo=200, olive=404, oscar=404, ada=404),
        kwargs=theo_clara,
    ),
    Endpoint(
        "availability in a conversation that does not exist",
        "api-conversation-availability",
        "GET",
        signed_in(404),
        kwargs=nowhere,
    ),
    Endpoint(
        "label Theo and Clara's conversation",
        "api-conversation-label",
        "POST",
        expect(signed_out=401, clara=403, theo=200, olive=404, oscar=403, ada=403),
        kwargs=theo_clara,
        body=lambda world: {"label": "C."},
    ),
    Endpoint(
        "label Olive and Oscar's conversation",
        "api-conversation-label",
        "POST",
        expect(signed_out=401, clara=403, theo=404, olive=200, oscar=403, ada=403),
        kwargs=olive_oscar,
        body=lambda world: {"label": "O."},
    ),
    Endpoint(
        "label a conversation that does not exist",
        "api-conversation-label",
        "POST",
        expect(signed_out=401, clara=403, theo=404, olive=404, oscar=403, ada=403),
        kwargs=nowhere,
        body=lambda world: {"label": "N."},
    ),
    Endpoint(
        "archive Theo and Clara's conversation",
        "api-conversation-archive",
        "POST",
        expect(signed_out=401, clara=403, theo=200, olive=404, oscar=403, ada=403),
        kwargs=theo_clara,
        body=lambda world: {"archived": True},
    ),
    Endpoint(
        "archive Olive and Oscar's conversation",
        "api-conversation-archive",
        "POST",
        expect(signed_out=401, clara=403, theo=404, olive=200, oscar=403, ada=403),
        kwargs=olive_oscar,
        body=lambda world: {"archived": True},
    ),
    Endpoint(
        "archive a conversation that does not exist",
        "api-conversation-archive",
        "POST",
        expect(signed_out=401, clara=403, theo=404, olive=404, oscar=403, ada=403),
        kwargs=nowhere,
        body=lambda world: {"archived": False},
    ),
    Endpoint(
        "discharge Theo and Clara's conversation",
        "api-conversation-discharge",
        "POST",
        expect(signed_out=401, clara=403, theo=200, olive=404, oscar=403, ada=403),
        kwargs=theo_clara,
    ),
    Endpoint(
        "discharge a conversation that does not exist",
        "api-conversation-discharge",
        "POST",
        expect(signed_out=401, clara=403, theo=404, olive=404, oscar=403, ada=403),
        kwargs=nowhere,
    ),
    Endpoint(
        "read the disclosures of Theo and Clara's conversation",
        "api-conversation-disclosures",
        "GET",
        expect(signed_out=401, clara=200, theo=200, olive=404, oscar=404, ada=404),
        kwargs=theo_clara,
    ),
    Endpoint(
        "record a disclosure (malformed) in Theo and Clara's conversation",
        "api-conversation-disclosures",
        "POST",
        expect(signed_out=401, clara=403, theo=400, olive=404, oscar=403, ada=403),
        kwargs=theo_clara,
        body=lambda world: {},
    ),
    Endpoint(
        "audit an export of Theo and Clara's conversation",
        "api-conversation-exports",
        "POST",
        expect(signed_out=401, clara=200, theo=200, olive=404, oscar=404, ada=403),
        kwargs=theo_clara,
        body=lambda world: {"messages": 3},
    ),
    Endpoint(
        "audit an export of a conversation that does not exist",
        "api-conversation-exports",
        "POST",
        expect(signed_out=401, clara=404, theo=404, olive=404, oscar=404, ada=403),
        kwargs=nowhere,
        body=lambda world: {"messages": 0},
    ),
    Endpoint(
        "begin an upload in Theo and Clara's conversation",
        "api-conversation-attachments",
        "POST",
        ATTACHMENT_MEMBERS,
        kwargs=theo_clara,
        body=lambda world: {"size": len(THEOS_PART)},
    ),
    Endpoint(
        "begin an upload in a conversation that does not exist",
        "api-conversation-attachments",
        "POST",
        expect(signed_out=401, clara=404, theo=404, olive=404, oscar=404, ada=403),
        kwargs=nowhere,
        body=lambda world: {"size": len(THEOS_PART)},
    ),
    Endpoint(
        "the state of Theo's upload under way",
        "api-attachment",
        "GET",
        THEOS_UPLOAD_ONLY,
        kwargs=theos_upload,
    ),
    Endpoint(
        "the state of Clara's complete attachment",
        "api-attachment",
        "GET",
        ATTACHMENT_MEMBERS,
        kwargs=claras_attachment,
    ),
    Endpoint(
        "send a part of Theo's upload",
        "api-attachment-part",
        "PUT",
        THEOS_UPLOAD_ONLY,
        kwargs=theos_upload_part,
        raw=lambda world: THEOS_PART,
    ),
    Endpoint(
        "complete Theo's upload",
        "api-attachment-complete",
        "POST",
        THEOS_UPLOAD_ONLY,
        kwargs=theos_upload_with_its_part,
        body=theos_digest,
    ),
    Endpoint(
        "download Theo's upload under way",
        "api-attachment-content",
        "GET",
        expect(signed_out=401, clara=404, theo=409, olive=404, oscar=404, ada=403),
        kwargs=theos_upload_with_its_part,
        codes={409: "attachment_incomplete"},
    ),
    Endpoint(
        "download Clara's complete attachment",
        "api-attachment-content",
        "GET",
        ATTACHMENT_MEMBERS,
        kwargs=claras_attachment,
    ),
]

CASES = [(endpoint, name) for endpoint in ENDPOINTS for name in PERSONAS]


@pytest.mark.parametrize(
    ("endpoint", "name"), CASES, ids=[f"{e.label} as {name}" for e, name in CASES]
)
def test_each_persona_gets_the_expected_answer(
    world: Practice5, browser_for: BrowserFor, endpoint: Endpoint, name: str
) -> None:
    browser = browser_for(persona(world, name))

    reply = endpoint.call(browser, world)

    expected = endpoint.expected[name]
    assert reply.status == expected, reply.content
    codes = {**ERROR_CODES, **endpoint.codes}
    if expected in codes:
        assert reply.code == codes[expected]


@pytest.mark.parametrize("name", ["Olive", "Oscar", "Ada"])
def test_someone_elses_conversation_looks_exactly_like_one_that_does_not_exist(
    world: Practice5, browser_for: BrowserFor, name: str
) -> None:
    browser = browser_for(persona(world, name))

    theirs = browser.get(f"/api/conversations/{world.chat.id}")
    missing = browser.get(f"/api/conversations/{uuid.uuid4()}")

    assert theirs.status == missing.status == 404
    assert theirs.content == missing.content


def test_a_member_sees_the_conversation_that_was_asked_for(
    world: Practice5, browser_for: BrowserFor
) -> None:
    for person, chat in [
        (world.client, world.chat),
        (world.therapist, world.chat),
        (world.other_therapist, world.other_chat),
        (world.other_client, world.other_chat),
    ]:
        reply = browser_for(person).get(f"/api/conversations/{chat.id}")
        assert reply.json()["conversation"]["id"] == str(chat.id)


def test_me_is_the_signed_in_persona(world: Practice5, browser_for: BrowserFor) -> None:
    for name in PERSONAS[1:]:
        person = persona(world, name)
        assert person is not None
        me = browser_for(person).get("/api/me").json()["user"]
        assert (me["id"], me["display_name"]) == (person.id, name)
        assert me["public_identity"] == crypto.b64encode(person.identity.public.to_bytes())


def test_the_table_names_every_api_route() -> None:
    routes = {pattern.name for pattern in urlpatterns}
    assert None not in routes, "every API route needs a name to appear in the table"
    assert {endpoint.route for endpoint in ENDPOINTS} == routes


# The last row of each route (a POST, where a route takes both methods).
ONE_PER_ROUTE = list({endpoint.route: endpoint for endpoint in ENDPOINTS}.values())
METHODS = {
    route: ", ".join(sorted({e.method for e in ENDPOINTS if e.route == route}))
    for route in {endpoint.route for endpoint in ENDPOINTS}
}


@pytest.mark.parametrize("endpoint", ONE_PER_ROUTE, ids=[e.route for e in ONE_PER_ROUTE])
def test_every_route_refuses_the_other_method_and_says_which_is_allowed(
    world: Practice5, browser_for: BrowserFor, endpoint: Endpoint
) -> None:
    browser = browser_for(world.therapist)
    path = endpoint.path(world)
    allowed = METHODS[endpoint.route]

    if allowed in ("GET", "GET, PUT", "PUT"):
        reply = browser.post(path, {})
    elif allowed == "POST":
        reply = browser.get(path)
    else:
        reply = browser.put(path)

    assert reply.status == 405
    assert reply.headers["Allow"] == allowed


POST_ROUTES = [endpoint for endpoint in ONE_PER_ROUTE if endpoint.method == "POST"]


@pytest.mark.parametrize("endpoint", POST_ROUTES, ids=[e.route for e in POST_ROUTES])
def test_every_post_route_refuses_a_request_without_the_csrf_header(
    world: Practice5, browser_for: BrowserFor, endpoint: Endpoint
) -> None:
    browser = browser_for(world.therapist)
    browser.csrf_token()  # the cookie is sent, as it would be with a cross-site form

    reply = browser.post_without_csrf(endpoint.path(world), endpoint.body(world))

    assert reply.status == 403
    assert reply.code == "csrf_failed"
    assert browser.signed_in_user() == world.therapist.id
