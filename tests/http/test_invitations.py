"""Invitations: a therapist's one-time link, and a client's sign-up through it.

Accepting is the one request that creates an account and a conversation at once, from key
material the server can check but not open; every failure must leave nothing behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

import crypto
from accounts.models import Role, User
from crypto import IdentityKeyPair, KdfParams
from messaging.models import Conversation, Invitation, KeyEnvelope, Membership
from messaging.services.events import user_group
from messaging.services.invitations import answer_after_a_lost_race
from protocol.errors import EmailTakenError, InvitationInvalidError
from tests.http.conftest import (
    PASSWORD,
    Applicant,
    Browser,
    BrowserFor,
    Invited,
    Reply,
    accept_body,
    invite,
    make_applicant,
)
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

ACCEPT = "/api/invitations/accept"
LOOKUP = "/api/invitations/lookup"


def lookup(token: str) -> Reply:
    return Browser().post(LOOKUP, {"token": token})


def invitation_row(invited: Invited) -> Invitation:
    return Invitation.objects.get(conversation_id=invited.conversation)


def assert_nothing_created(invited: Invited, applicant: Applicant) -> None:
    assert not User.objects.filter(email=applicant.email).exists()
    assert not Conversation.objects.filter(id=invited.conversation).exists()
    assert not Membership.objects.filter(conversation_id=invited.conversation).exists()
    assert not KeyEnvelope.objects.filter(conversation_id=invited.conversation).exists()
    assert invitation_row(invited).used_at is None


# --- creating ---------------------------------------------------------------------------


def test_a_therapist_creates_an_invitation_whose_token_is_stored_only_hashed(
    world: Practice5, browser_for: BrowserFor
) -> None:
    before = timezone.now()
    reply = browser_for(world.therapist).post("/api/invitations", {"client_name": "Nina"})

    assert reply.status == 200, reply.content
    body = reply.json()
    token = body["token"]
    assert len(token) >= 40
    assert body["path"] == f"/invite#{token}"
    row = Invitation.objects.get()
    assert str(row.conversation_id) == body["conversation"]
    assert row.therapist_id == world.therapist.id
    assert row.client_name == "Nina"
    assert row.used_at is None
    expected_expiry = before + timedelta(hours=72)
    assert abs(datetime.fromisoformat(body["expires_at"]) - expected_expiry) < timedelta(minutes=1)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    for model_field in Invitation._meta.concrete_fields:
        assert token not in str(getattr(row, model_field.attname)), model_field.name


def test_each_invitation_gets_its_own_token_and_conversation(world: Practice5) -> None:
    first, second = invite(world.therapist), invite(world.therapist)
    assert first.token != second.token
    assert first.conversation != second.conversation


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("client", 403, "forbidden"), ("admin", 403, "forbidden"), (None, 401, "unauthenticated")],
    ids=["a client", "an admin", "someone signed out"],
)
def test_only_a_therapist_may_create_an_invitation(
    world: Practice5, browser_for: BrowserFor, who: str | None, status: int, code: str
) -> None:
    person = None if who is None else getattr(world, who)
    reply = browser_for(person).post("/api/invitations", {"client_name": "Nina"})

    assert reply.status == status
    assert reply.code == code
    assert not Invitation.objects.exists()


# --- looking up -------------------------------------------------------------------------


def test_lookup_shows_the_therapists_public_identity_and_the_conversation(
    world: Practice5,
) -> None:
    invited = invite(world.therapist, "Nina")

    reply = lookup(invited.token)

    assert reply.status == 200, reply.content
    body = reply.json()
    assert body["conversation"] == str(invited.conversation)
    assert body["client_name"] == "Nina"
    assert body["practice"] == world.practice.name
    assert body["expires_at"] == invitation_row(invited).expires_at.isoformat()
    # A Member, not the therapist's account: no email, no key bundle.
    assert body["therapist"] == {
        "id": world.therapist.id,
        "display_name": "Theo",
        "role": "therapist",
        "public_identity": crypto.b64encode(world.therapist.identity.public.to_bytes()),
    }


def test_lookup_does_not_use_the_invitation(world: Practice5) -> None:
    invited = invite(world.therapist)
    assert lookup(invited.token).status == 200
    assert lookup(invited.token).status == 200
    assert invitation_row(invited).used_at is None


# --- accepting --------------------------------------------------------------------------


def test_accepting_creates_the_account_and_the_conversation_and_signs_the_client_in(
    world: Practice5, browser_for: BrowserFor
) -> None:
    theo = world.therapist
    invited = invite(theo)
    conversation = uuid.UUID(lookup(invited.token).json()["conversation"])
    applicant = make_applicant()
    browser = Browser()

    reply = browser.post(
        ACCEPT, applicant.accept_body(invited.token, conversation, theo.identity.public)
    )

    assert reply.status == 200, reply.content
    body = reply.json()
    assert body["conversation"] == str(conversation)
    client = User.objects.get(email=applicant.email)
    assert body["user"]["id"] == client.pk
    assert body["user"]["role"] == "client"
    assert (client.role, client.practice_id, client.display_name) == (
        Role.CLIENT,
        world.practice.pk,
        "Nina",
    )
    assert bytes(client.public_identity) == applicant.material.public_identity.to_bytes()
    assert bytes(client.key_bundle) == applicant.material.key_bundle
    assert bytes(client.recovery_bundle) == applicant.material.recovery_bundle
    assert Conversation.objects.filter(id=conversation, practice=world.practice).exists()
    assert set(
        Membership.objects.filter(conversation_id=conversation).values_list("user_id", flat=True)
    ) == {client.pk, theo.id}
    envelopes = KeyEnvelope.objects.filter(conversation_id=conversation)
    assert {(e.recipient_id, e.wrapper_id, e.epoch) for e in envelopes} == {
        (client.pk, client.pk, 0),
        (theo.id, client.pk, 0),
    }
    assert invitation_row(invited).used_at is not None
    assert browser.signed_in_user() == client.pk

    # Theo reads his envelope through the API and opens it with his own identity.
    theo_view = browser_for(theo).get(f"/api/conversations/{conversation}").json()["conversation"]
    [envelope] = theo_view["envelopes"]
    assert envelope["wrapper"] == client.pk
    key = crypto.unwrap_conversation_key(
        crypto.b64decode(envelope["envelope"]),
        theo.identity,
        applicant.material.public_identity,
        conversation,
        0,
    )
    assert key == applicant.key


def test_the_new_client_can_sign_in_again_with_the_password(world: Practice5) -> None:
    invited = invite(world.therapist)
    applicant = make_applicant()
    assert Browser().post(ACCEPT, accept_body(invited, applicant)).status == 200

    browser = Browser()
    params = browser.post("/api/auth/params", {"email": applicant.email}).json()
    salt = crypto.b64decode(params["salt"])
    keys = crypto.derive_password_keys(
        PASSWORD, salt, KdfParams(params["opslimit"], params["memlimit"])
    )
    reply = browser.post(
        "/api/auth/signin", {"email": applicant.email, "auth_secret": keys.auth_secret_b64()}
    )

    assert reply.status == 200, reply.content
    bundle = crypto.b64decode(reply.json()["user"]["key_bundle"])
    identity = crypto.unwrap_identity(bundle, keys.kek, applicant.material.public_identity)
    assert identity.public == applicant.material.public_identity


def test_an_invitation_accepted_twice_creates_one_account(world: Practice5) -> None:
    invited = invite(world.therapist)
    first, second = make_applicant("nina@client.invalid"), make_applicant("nora@client.invalid")
    assert Browser().post(ACCEPT, accept_body(invited, first)).status == 200
    browser = Browser()

    reply = browser.post(ACCEPT, accept_body(invited, second))

    assert reply.status == 410
    assert reply.code == "invitation_invalid"
    assert not User.objects.filter(email=second.email).exists()
    assert User.objects.filter(role=Role.CLIENT).count() == 3  # Clara, Oscar, Nina
    assert browser.signed_in_user() is None


def expire(invited: Invited) -> None:
    now = timezone.now()
    Invitation.objects.filter(conversation_id=invited.conversation).update(
        created_at=now - timedelta(days=4), expires_at=now - timedelta(seconds=1)
    )


def test_an_expired_invitation_can_be_neither_looked_up_nor_accepted(world: Practice5) -> None:
    invited = invite(world.therapist)
    expire(invited)
    applicant = make_applicant()

    looked_up = lookup(invited.token)
    accepted = Browser().post(ACCEPT, accept_body(invited, applicant))

    assert (looked_up.status, looked_up.code) == (410, "invitation_invalid")
    assert (accepted.status, accepted.code) == (410, "invitation_invalid")
    assert_nothing_created(invited, applicant)


def test_unknown_used_and_expired_invitations_get_one_answer(world: Practice5) -> None:
    used, expired = invite(world.therapist), invite(world.therapist)
    assert Browser().post(ACCEPT, accept_body(used, make_applicant())).status == 200
    expire(expired)
    unknown_token = "A" * 43

    answers = [lookup(token) for token in (unknown_token, used.token, expired.token)]
    accepts = [
        Browser().post(ACCEPT, accept_body(invited, make_applicant("other@client.invalid")))
        for invited in (
            Invited(unknown_token, uuid.uuid4(), world.therapist),
            used,
            expired,
        )
    ]

    assert {reply.status for reply in answers + accepts} == {410}
    assert all(reply.json() == answers[0].json() for reply in answers + accepts)
    assert answers[0].code == "invitation_invalid"


@pytest.mark.parametrize(
    "email", ["clara@practice.invalid", "Clara@Practice.Invalid"], ids=["same", "other case"]
)
def test_an_email_already_taken_is_refused_and_the_invitation_stays_usable(
    world: Practice5, email: str
) -> None:
    invited = invite(world.therapist)
    applicant = make_applicant(email)
    browser = Browser()

    reply = browser.post(ACCEPT, accept_body(invited, applicant))

    assert reply.status == 409
    assert reply.code == "email_taken"
    assert invitation_row(invited).used_at is None
    assert not Conversation.objects.filter(id=invited.conversation).exists()
    assert User.objects.filter(email__iexact=email).count() == 1
    assert browser.signed_in_user() is None
    # The same invitation still works with another email.
    retry = Browser().post(ACCEPT, accept_body(invited, make_applicant()))
    assert retry.status == 200, retry.content


def test_a_taken_email_is_not_revealed_before_the_envelopes_are_checked(
    world: Practice5,
) -> None:
    invited = invite(world.therapist)
    prober = make_applicant("clara@practice.invalid")
    wrong_envelope = prober.envelope(uuid.uuid4(), world.therapist.identity.public)

    reply = Browser().post(
        ACCEPT,
        accept_body(invited, prober, therapist_envelope=crypto.b64encode(wrong_envelope)),
    )

    assert reply.status == 400, reply.content
    assert reply.code == "bad_envelopes"
    assert invitation_row(invited).used_at is None


def test_used_and_expired_invitations_never_say_whether_an_email_is_taken(
    world: Practice5,
) -> None:
    used, expired = invite(world.therapist), invite(world.therapist)
    assert Browser().post(ACCEPT, accept_body(used, make_applicant())).status == 200
    expire(expired)

    for invited in (used, expired):
        taken = Browser().post(
            ACCEPT, accept_body(invited, make_applicant("clara@practice.invalid"))
        )
        free = Browser().post(ACCEPT, accept_body(invited, make_applicant("free@client.invalid")))
        assert (taken.status, taken.code) == (410, "invitation_invalid")
        assert taken.json() == free.json()


@override_settings(CONFIDE_INVITATION_EMAIL_TAKEN_ANSWERS=2)
def test_an_invitation_answers_that_an_email_is_taken_only_a_few_times(
    world: Practice5,
) -> None:
    invited = invite(world.therapist)
    first = Browser().post(ACCEPT, accept_body(invited, make_applicant("clara@practice.invalid")))
    assert first.status == 409
    assert first.json()["error"]["invitation_used_up"] is False
    assert invitation_row(invited).used_at is None

    last = Browser().post(ACCEPT, accept_body(invited, make_applicant("oscar@practice.invalid")))

    # The last answer uses the invitation up and says so ...
    assert last.status == 409
    assert last.code == "email_taken"
    assert last.json()["error"]["invitation_used_up"] is True
    assert invitation_row(invited).used_at is not None
    # ... and from then on it answers nothing, whatever the email.
    for email in ("theo@practice.invalid", "nina@client.invalid"):
        reply = Browser().post(ACCEPT, accept_body(invited, make_applicant(email)))
        assert (reply.status, reply.code) == (410, "invitation_invalid")
    assert not User.objects.filter(email="nina@client.invalid").exists()
    assert lookup(invited.token).status == 410


def test_losing_a_race_reveals_a_taken_email_only_for_a_valid_invitation(
    world: Practice5,
) -> None:
    """After an insert fails (another request took the email or the invitation at the
    same moment), the answer is worked out again in the same order."""
    pending, used = invite(world.therapist), invite(world.therapist)
    assert Browser().post(ACCEPT, accept_body(used, make_applicant())).status == 200

    with pytest.raises(InvitationInvalidError):
        answer_after_a_lost_race(used.token, "clara@practice.invalid")
    with pytest.raises(EmailTakenError):
        answer_after_a_lost_race(pending.token, "clara@practice.invalid")
    with pytest.raises(InvitationInvalidError):
        answer_after_a_lost_race(pending.token, "free@client.invalid")


# --- what the server checks before creating anything ----------------------------------

EnvelopePair = Callable[[Applicant, Invited, Practice5], tuple[bytes, bytes]]


def wrapped_to_another_therapist(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    return (
        a.envelope(i.conversation, a.material.public_identity),
        a.envelope(i.conversation, w.other_therapist.identity.public),
    )


def client_envelope_wrapped_to_the_therapist(
    a: Applicant, i: Invited, w: Practice5
) -> tuple[bytes, bytes]:
    therapist = w.therapist.identity.public
    return a.envelope(i.conversation, therapist), a.envelope(i.conversation, therapist)


def signed_by_another_identity(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    stranger = IdentityKeyPair.generate()
    return (
        a.envelope(i.conversation, a.material.public_identity, wrapper=stranger),
        a.envelope(i.conversation, w.therapist.identity.public, wrapper=stranger),
    )


def signed_by_the_therapists_identity(
    a: Applicant, i: Invited, w: Practice5
) -> tuple[bytes, bytes]:
    theo = w.therapist.identity
    return (
        a.envelope(i.conversation, a.material.public_identity, wrapper=theo),
        a.envelope(i.conversation, theo.public, wrapper=theo),
    )


def therapist_envelope_signed_by_another(
    a: Applicant, i: Invited, w: Practice5
) -> tuple[bytes, bytes]:
    return (
        a.envelope(i.conversation, a.material.public_identity),
        a.envelope(i.conversation, w.therapist.identity.public, wrapper=w.client.identity),
    )


def bound_to_another_conversation(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    elsewhere = w.chat.id
    return (
        a.envelope(elsewhere, a.material.public_identity),
        a.envelope(elsewhere, w.therapist.identity.public),
    )


def therapist_envelope_for_another_conversation(
    a: Applicant, i: Invited, w: Practice5
) -> tuple[bytes, bytes]:
    return (
        a.envelope(i.conversation, a.material.public_identity),
        a.envelope(uuid.uuid4(), w.therapist.identity.public),
    )


def bound_to_epoch_one(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    return (
        a.envelope(i.conversation, a.material.public_identity, epoch=1),
        a.envelope(i.conversation, w.therapist.identity.public, epoch=1),
    )


def client_envelope_for_epoch_one(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    return (
        a.envelope(i.conversation, a.material.public_identity, epoch=1),
        a.envelope(i.conversation, w.therapist.identity.public),
    )


def swapped(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    return (
        a.envelope(i.conversation, w.therapist.identity.public),
        a.envelope(i.conversation, a.material.public_identity),
    )


def one_byte_flipped(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    envelope = bytearray(a.envelope(i.conversation, w.therapist.identity.public))
    envelope[100] ^= 0x01
    return a.envelope(i.conversation, a.material.public_identity), bytes(envelope)


def truncated(a: Applicant, i: Invited, w: Practice5) -> tuple[bytes, bytes]:
    return (
        a.envelope(i.conversation, a.material.public_identity)[:-1],
        a.envelope(i.conversation, w.therapist.identity.public),
    )


BAD_ENVELOPES: dict[str, EnvelopePair] = {
    "therapist's wrapped to another therapist": wrapped_to_another_therapist,
    "client's wrapped to the therapist": client_envelope_wrapped_to_the_therapist,
    "both signed by a stranger": signed_by_another_identity,
    "both signed by the therapist": signed_by_the_therapists_identity,
    "therapist's signed by another client": therapist_envelope_signed_by_another,
    "both bound to another conversation": bound_to_another_conversation,
    "therapist's bound to a random conversation": therapist_envelope_for_another_conversation,
    "both bound to epoch 1": bound_to_epoch_one,
    "client's bound to epoch 1": client_envelope_for_epoch_one,
    "client's and therapist's swapped": swapped,
    "a byte flipped": one_byte_flipped,
    "one byte short": truncated,
}


@pytest.mark.parametrize("make_envelopes", BAD_ENVELOPES.values(), ids=BAD_ENVELOPES.keys())
def test_envelopes_that_do_not_fit_are_refused_and_nothing_is_created(
    world: Practice5, make_envelopes: EnvelopePair
) -> None:
    invited = invite(world.therapist)
    applicant = make_applicant()
    client_envelope, therapist_envelope = make_envelopes(applicant, invited, world)
    browser = Browser()

    reply = browser.post(
        ACCEPT,
        accept_body(
            invited,
            applicant,
            client_envelope=crypto.b64encode(client_envelope),
            therapist_envelope=crypto.b64encode(therapist_envelope),
        ),
    )

    assert reply.status == 400, reply.content
    assert reply.code == "bad_envelopes"
    assert_nothing_created(invited, applicant)
    assert browser.signed_in_user() is None


def test_the_envelopes_the_refusals_start_from_are_accepted(world: Practice5) -> None:
    invited = invite(world.therapist)
    applicant = make_applicant()
    client_envelope = applicant.envelope(invited.conversation, applicant.material.public_identity)
    therapist_envelope = applicant.envelope(invited.conversation, world.therapist.identity.public)

    reply = Browser().post(
        ACCEPT,
        accept_body(
            invited,
            applicant,
            client_envelope=crypto.b64encode(client_envelope),
            therapist_envelope=crypto.b64encode(therapist_envelope),
        ),
    )

    assert reply.status == 200, reply.content


def with_bad_identity_signature(applicant: Applicant) -> dict[str, Any]:
    identity = bytearray(applicant.material.public_identity.to_bytes())
    identity[-1] ^= 0x01
    return {"public_identity": crypto.b64encode(bytes(identity))}


def kdf_with(applicant: Applicant, **params: Any) -> dict[str, Any]:
    kdf = {
        "salt": crypto.b64encode(applicant.material.salt),
        "opslimit": applicant.material.params.opslimit,
        "memlimit": applicant.material.params.memlimit,
        "algorithm": "argon2id13",
    }
    return {"kdf": {**kdf, **params}}


BAD_SIGN_UPS: dict[str, Callable[[Applicant], dict[str, Any]]] = {
    "identity with a bad signature": with_bad_identity_signature,
    "identity one byte short": lambda a: {
        "public_identity": crypto.b64encode(a.material.public_identity.to_bytes()[:-1])
    },
    "opslimit below the minimum": lambda a: kdf_with(a, opslimit=1),
    "memlimit below the minimum": lambda a: kdf_with(a, memlimit=16 * 1024 * 1024),
    "opslimit above the maximum": lambda a: kdf_with(a, opslimit=11),
    "memlimit not a whole number of KiB": lambda a: kdf_with(a, memlimit=32 * 1024 * 1024 + 1),
    "opslimit as a string": lambda a: kdf_with(a, opslimit="2"),
    "salt of 15 bytes": lambda a: kdf_with(a, salt=crypto.b64encode(bytes(15))),
    "another algorithm": lambda a: kdf_with(a, algorithm="argon2i13"),
    "recovery bundle in place of the key bundle": lambda a: {
        "key_bundle": crypto.b64encode(a.material.recovery_bundle)
    },
    "auth secret too short": lambda a: {"auth_secret": crypto.b64encode(bytes(31))},
    "an extra field": lambda a: {"invited_by": "Theo"},
}


@pytest.mark.parametrize("changes", BAD_SIGN_UPS.values(), ids=BAD_SIGN_UPS.keys())
def test_malformed_sign_up_material_is_refused_and_nothing_is_created(
    world: Practice5, changes: Callable[[Applicant], dict[str, Any]]
) -> None:
    invited = invite(world.therapist)
    applicant = make_applicant()

    reply = Browser().post(ACCEPT, accept_body(invited, applicant, **changes(applicant)))

    assert reply.status == 400, reply.content
    assert reply.code == "bad_request"
    assert_nothing_created(invited, applicant)


# --- two accepts at once ----------------------------------------------------------------


def accept_until_answered(browser: Browser, body: dict[str, Any], csrf_token: str) -> list[int]:
    """Accepts, resending after ``unavailable`` as docs/protocol.md tells a client to.

    SQLite's in-memory test database refuses a second writer at once ("database table is
    locked") instead of waiting for it, which the API answers as 503 ``unavailable``:
    nothing was stored, resend. PostgreSQL makes the second accept wait on the invitation's
    row lock instead.
    """
    statuses: list[int] = []
    for _ in range(20):
        statuses.append(browser.post_with_token(ACCEPT, body, csrf_token=csrf_token).status)
        if statuses[-1] != 503:
            break
        time.sleep(0.05)
    return statuses


RACERS = 4


@pytest.mark.django_db(transaction=True)
def test_accepts_racing_for_one_invitation_create_one_account(world: Practice5) -> None:
    invited = invite(world.therapist)
    applicants = [make_applicant(f"racer{n}@client.invalid") for n in range(RACERS)]
    bodies = [accept_body(invited, applicant) for applicant in applicants]
    browsers = [Browser() for _ in applicants]
    csrf_tokens = [browser.csrf_token() for browser in browsers]
    start = threading.Barrier(len(applicants))
    answers: list[list[int]] = []

    def race(browser: Browser, body: dict[str, Any], csrf_token: str) -> None:
        try:
            start.wait(timeout=10)
            answers.append(accept_until_answered(browser, body, csrf_token))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=race, args=args)
        for args in zip(browsers, bodies, csrf_tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    one_winner = [200] + [410] * (RACERS - 1)
    assert sorted(statuses[-1] for statuses in answers) == one_winner, answers
    if connection.vendor == "postgresql":
        assert sorted(statuses[0] for statuses in answers) == one_winner, answers
    assert User.objects.filter(email__startswith="racer").count() == 1
    assert Conversation.objects.filter(id=invited.conversation).count() == 1
    assert Membership.objects.filter(conversation_id=invited.conversation).count() == 2
    assert KeyEnvelope.objects.filter(conversation_id=invited.conversation).count() == 2


def test_an_invitation_from_a_deactivated_therapist_is_no_longer_valid(
    world: Practice5,
) -> None:
    invited = invite(world.therapist)
    User.objects.filter(pk=world.therapist.id).update(is_active=False)
    reply = lookup(invited.token)
    assert reply.status == 410
    assert reply.json()["error"]["code"] == "invitation_invalid"
    accepted = Browser().post(ACCEPT, accept_body(invited, make_applicant()))
    assert accepted.status == 410
    assert not User.objects.filter(email="nina@client.invalid").exists()


def test_the_therapists_sockets_hear_of_the_new_conversation_once_it_is_committed(
    world: Practice5, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    """A content-free event to the therapist's group, so an open inbox shows the new
    conversation without polling (docs/protocol.md, "Events without a request")."""
    layer = get_channel_layer()
    assert layer is not None
    theo, olive = world.therapist, world.other_therapist
    theo_socket = async_to_sync(layer.new_channel)()
    olive_socket = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(theo.id), theo_socket)
    async_to_sync(layer.group_add)(user_group(olive.id), olive_socket)
    try:
        invited = invite(theo)
        # The test's transaction stands in for the request's: the event waits for its
        # commit, which the callbacks then stand in for.
        with django_capture_on_commit_callbacks() as on_commit:
            assert Browser().post(ACCEPT, accept_body(invited, make_applicant())).status == 200
        assert len(on_commit) == 1
        on_commit[0]()

        event = async_to_sync(asyncio.wait_for)(layer.receive(theo_socket), 5)
        assert event["type"] == "deliver"
        frame = json.loads(event["text"]) if "text" in event else event["frame"]
        assert frame == {"type": "conversation_added", "conversation": str(invited.conversation)}
        with pytest.raises(TimeoutError):
            async_to_sync(asyncio.wait_for)(layer.receive(olive_socket), 0.3)
    finally:
        async_to_sync(layer.group_discard)(user_group(theo.id), theo_socket)
        async_to_sync(layer.group_discard)(user_group(olive.id), olive_socket)
