"""``POST /api/invitations/<id>/renew``: the server keeps only a hash of an invitation's
token, so a link cannot be shown twice; a therapist gets a new link for a pending
invitation instead. The old link opens nothing from then on, the conversation it will open
stays the same, and only a pending invitation of the therapist's own is renewed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from accounts.tokens import hash_token
from messaging.models import Conversation, Invitation
from protocol.http import InvitationAnswer
from tests.http.conftest import (
    Browser,
    BrowserFor,
    Invited,
    Reply,
    accept_body,
    invite,
    make_applicant,
)
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db

ACCEPT = "/api/invitations/accept"
LOOKUP = "/api/invitations/lookup"


def row(invited: Invited) -> Invitation:
    return Invitation.objects.get(conversation_id=invited.conversation)


def renew(person: Person, invitation_id: int, body: object = None) -> Reply:
    return Browser().sign_in_as(person).post(f"/api/invitations/{invitation_id}/renew", body)


def renewed(invited: Invited, reply: Reply) -> Invited:
    """The invitation as the therapist can now give it: the new token."""
    assert reply.status == 200, reply.content
    return Invited(
        InvitationAnswer.model_validate_json(reply.content).token,
        invited.conversation,
        invited.therapist,
    )


def lookup(token: str) -> Reply:
    return Browser().post(LOOKUP, {"token": token})


def expire(invited: Invited) -> None:
    past = timezone.now() - timedelta(hours=1)
    Invitation.objects.filter(pk=row(invited).pk).update(
        created_at=past - timedelta(hours=72), expires_at=past
    )


def test_the_new_link_opens_the_invitation_and_the_old_one_opens_nothing(
    world: Practice5,
) -> None:
    invited = invite(world.therapist)
    before = row(invited)

    reply = renew(world.therapist, before.pk)

    assert reply.status == 200, reply.content
    answer = InvitationAnswer.model_validate_json(reply.content)
    assert (answer.id, answer.conversation, answer.expires_at) == (
        before.pk,
        invited.conversation,
        before.expires_at,
    )
    assert answer.token != invited.token
    assert answer.path == f"/invite#{answer.token}"
    after = row(invited)
    assert after.token_hash == hash_token(answer.token) != before.token_hash
    old = lookup(invited.token)
    assert (old.status, old.code) == (410, "invitation_invalid")
    refused = Browser().post(ACCEPT, accept_body(invited, make_applicant("old@client.invalid")))
    assert (refused.status, refused.code) == (410, "invitation_invalid")
    assert not User.objects.filter(email="old@client.invalid").exists()
    fresh = renewed(invited, reply)
    assert lookup(fresh.token).json()["conversation"] == str(invited.conversation)
    accepted = Browser().post(ACCEPT, accept_body(fresh, make_applicant()))
    assert accepted.status == 200, accepted.content
    assert accepted.json()["conversation"] == str(invited.conversation)


def test_each_renewal_ends_the_link_before_it(world: Practice5) -> None:
    invited = invite(world.therapist)
    first = renewed(invited, renew(world.therapist, row(invited).pk))

    second = renewed(invited, renew(world.therapist, row(invited).pk))

    assert [lookup(i.token).status for i in (invited, first, second)] == [410, 410, 200]


@override_settings(CONFIDE_INVITATION_HOURS=5)
def test_extend_moves_the_expiry_to_the_full_period_from_now(world: Practice5) -> None:
    invited = invite(world.therapist)
    soon = timezone.now() + timedelta(minutes=10)
    Invitation.objects.filter(pk=row(invited).pk).update(expires_at=soon)

    plain = renew(world.therapist, row(invited).pk)
    assert InvitationAnswer.model_validate_json(plain.content).expires_at == soon
    start = timezone.now()
    extended = renew(world.therapist, row(invited).pk, {"extend": True})
    end = timezone.now()

    expires_at = InvitationAnswer.model_validate_json(extended.content).expires_at
    assert start + timedelta(hours=5) <= expires_at <= end + timedelta(hours=5)
    assert row(invited).expires_at == expires_at


def test_the_list_shows_a_renewed_invitation_once_and_still_pending(world: Practice5) -> None:
    invited = invite(world.therapist)
    renew(world.therapist, row(invited).pk)

    items = Browser().sign_in_as(world.therapist).get("/api/invitations").json()["invitations"]

    assert [(item["id"], item["state"]) for item in items] == [(row(invited).pk, "pending")]


def accepted_one(world: Practice5) -> Invited:
    invited = invite(world.therapist, "Accepted")
    assert Browser().post(ACCEPT, accept_body(invited, make_applicant())).status == 200
    return invited


def revoked_one(world: Practice5) -> Invited:
    invited = invite(world.therapist, "Revoked")
    browser = Browser().sign_in_as(world.therapist)
    assert browser.post(f"/api/invitations/{row(invited).pk}/revoke").status == 200
    return invited


def expired_one(world: Practice5) -> Invited:
    invited = invite(world.therapist, "Expired")
    expire(invited)
    return invited


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (accepted_one, "was accepted"),
        (revoked_one, "was revoked"),
        (expired_one, "has expired"),
    ],
    ids=["accepted", "revoked", "expired"],
)
def test_an_invitation_no_longer_pending_is_not_renewed_and_the_answer_says_why(
    world: Practice5, make: Callable[[Practice5], Invited], why: str
) -> None:
    invited = make(world)
    before = row(invited)

    reply = renew(world.therapist, before.pk, {"extend": True})

    assert (reply.status, reply.code) == (410, "invitation_invalid")
    assert why in reply.json()["error"]["message"]
    assert "token" not in reply.json()
    after = row(invited)
    assert (after.token_hash, after.expires_at, after.used_at, after.revoked_at) == (
        before.token_hash,
        before.expires_at,
        before.used_at,
        before.revoked_at,
    )


def test_another_therapists_invitation_is_not_found_and_keeps_its_link(
    world: Practice5,
) -> None:
    theos = invite(world.therapist)
    before = row(theos)

    reply = renew(world.other_therapist, before.pk)
    unknown = renew(world.other_therapist, before.pk + 1000)

    assert (reply.status, reply.code) == (404, "not_found")
    assert reply.json() == unknown.json()
    assert row(theos).token_hash == before.token_hash
    assert lookup(theos.token).status == 200


@pytest.mark.parametrize("invitation_id", [999_999, 2**63, 10**30])
def test_an_id_that_names_no_invitation_is_not_found(world: Practice5, invitation_id: int) -> None:
    reply = renew(world.therapist, invitation_id)

    assert (reply.status, reply.code) == (404, "not_found")


@pytest.mark.parametrize("who", ["client", "admin"])
def test_a_client_or_an_admin_may_not_renew(
    world: Practice5, browser_for: BrowserFor, who: str
) -> None:
    theos = invite(world.therapist)
    before = row(theos)

    reply = browser_for(getattr(world, who)).post(f"/api/invitations/{before.pk}/renew")

    assert (reply.status, reply.code) == (403, "forbidden")
    assert row(theos).token_hash == before.token_hash


@pytest.mark.parametrize(
    "body", [{"extend": "yes"}, {"extend": 1}, {"extend": True, "token": "x" * 43}, []]
)
def test_a_malformed_body_is_refused_and_changes_nothing(world: Practice5, body: object) -> None:
    invited = invite(world.therapist)
    before = row(invited)

    reply = renew(world.therapist, before.pk, body)

    assert (reply.status, reply.code) == (400, "bad_request")
    assert row(invited).token_hash == before.token_hash
    assert lookup(invited.token).status == 200


def until_answered(send: Callable[[], Reply]) -> list[Reply]:
    """Sends until the answer is not ``unavailable``, as docs/protocol.md tells a client to.

    SQLite's in-memory test database refuses a second writer at once (the API answers 503
    ``unavailable``: nothing was stored, send again); PostgreSQL makes the second request
    wait on the invitation's row lock instead.
    """
    replies: list[Reply] = []
    for _ in range(40):
        replies.append(send())
        if replies[-1].status != 503:
            break
        time.sleep(0.05)
    return replies


def race(sends: dict[str, Callable[[], Reply]]) -> dict[str, list[Reply]]:
    """Starts each request at once, in a thread of its own; each one's answers."""
    start = threading.Barrier(len(sends))
    answers: dict[str, list[Reply]] = {}

    def run(name: str, send: Callable[[], Reply]) -> None:
        try:
            start.wait(timeout=10)
            answers[name] = until_answered(send)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in sends.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def renew_racing_accept(world: Practice5, n: int) -> str:
    """One round: which of the two won."""
    invited = invite(world.therapist, f"Racer {n}")
    renew_path = f"/api/invitations/{row(invited).pk}/renew"
    email = f"racer{n}@client.invalid"
    body = accept_body(invited, make_applicant(email))
    therapist, applicant = Browser().sign_in_as(world.therapist), Browser()
    therapist_csrf, applicant_csrf = therapist.csrf_token(), applicant.csrf_token()

    answers = race(
        {
            "renew": lambda: therapist.post_with_token(renew_path, csrf_token=therapist_csrf),
            "accept": lambda: applicant.post_with_token(ACCEPT, body, csrf_token=applicant_csrf),
        }
    )

    renewal, acceptance = answers["renew"][-1], answers["accept"][-1]
    joined = Conversation.objects.filter(id=invited.conversation).exists()
    assert User.objects.filter(email=email).exists() == joined
    assert lookup(invited.token).status == 410
    if connection.vendor == "postgresql":
        # The second request waited on the row lock rather than failing.
        assert len(answers["renew"]) == len(answers["accept"]) == 1
    if not joined:
        # The renewal came first: the accept with the old token found nothing, and the new
        # link is the one way in left.
        assert (renewal.status, acceptance.status, acceptance.code) == (
            200,
            410,
            "invitation_invalid",
        ), answers
        assert lookup(renewed(invited, renewal).token).status == 200
        return "renewed"
    # The accept came first: the renewal changed nothing and said why.
    assert (renewal.status, renewal.code) == (410, "invitation_invalid"), answers
    assert "was accepted" in renewal.json()["error"]["message"]
    assert row(invited).token_hash == hash_token(invited.token)
    if connection.vendor == "postgresql":
        assert acceptance.status == 200, answers
    else:
        # SQLite may refuse the sign-in's own write after the accept committed (503), and
        # the accept sent again then finds its invitation used.
        statuses = [reply.status for reply in answers["accept"]]
        assert statuses[-1] == 200 or (statuses[-1] == 410 and 503 in statuses), answers
    return "accepted"


ROUNDS = 4


@pytest.mark.django_db(transaction=True)
def test_a_renewal_racing_an_accept_never_leaves_two_ways_in(world: Practice5) -> None:
    """Either the accept wins (the renewal is refused: accepted), or the renewal wins (the
    accept, with the old token, is refused); never both, never neither."""
    outcomes = [renew_racing_accept(world, n) for n in range(ROUNDS)]

    assert set(outcomes) <= {"renewed", "accepted"}
