"""``GET /api/invitations`` and ``POST /api/invitations/<id>/revoke``: a therapist sees their
own invitations (never a token) and withdraws a pending one, whose link then opens nothing,
exactly as a used one. Someone else's invitation is ``not_found``, like one that does not
exist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from messaging.models import Conversation, Invitation
from protocol.http import InvitationItem, InvitationsAnswer
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

INVITATIONS = "/api/invitations"


def listed(person: Person) -> InvitationsAnswer:
    reply = Browser().sign_in_as(person).get(INVITATIONS)
    assert reply.status == 200, reply.content
    return InvitationsAnswer.model_validate_json(reply.content)


def row(invited: Invited) -> Invitation:
    return Invitation.objects.get(conversation_id=invited.conversation)


def revoke(person: Person, invitation_id: int) -> Reply:
    return Browser().sign_in_as(person).post(f"{INVITATIONS}/{invitation_id}/revoke")


def states(person: Person) -> dict[str, str]:
    return {item.client_name: item.state for item in listed(person).invitations}


def expire(invited: Invited) -> None:
    past = timezone.now() - timedelta(hours=1)
    Invitation.objects.filter(pk=row(invited).pk).update(
        created_at=past - timedelta(hours=72), expires_at=past
    )


def test_a_therapist_lists_their_own_invitations_newest_first_and_never_a_token(
    world: Practice5,
) -> None:
    theirs = [invite(world.therapist, name) for name in ("Nina", "Noah", "Nell")]
    invite(world.other_therapist, "Otto")

    reply = Browser().sign_in_as(world.therapist).get(INVITATIONS)

    assert reply.status == 200, reply.content
    items = InvitationsAnswer.model_validate_json(reply.content).invitations
    assert [item.client_name for item in items] == ["Nell", "Noah", "Nina"]
    assert [item.conversation for item in items] == [i.conversation for i in reversed(theirs)]
    for item, invited in zip(items, reversed(theirs), strict=True):
        stored = row(invited)
        assert item == InvitationItem(
            id=stored.pk,
            client_name=stored.client_name,
            conversation=invited.conversation,
            created_at=stored.created_at,
            expires_at=stored.expires_at,
            state="pending",
        )
        assert invited.token not in reply.content.decode()
    assert [item.client_name for item in listed(world.other_therapist).invitations] == ["Otto"]


def test_the_id_a_new_invitation_answers_is_the_one_listed(world: Practice5) -> None:
    answer = Browser().sign_in_as(world.therapist).post(INVITATIONS, {"client_name": "Nina"})

    [item] = listed(world.therapist).invitations
    assert answer.json()["id"] == item.id


@override_settings(CONFIDE_INVITATION_EMAIL_TAKEN_ANSWERS=1)
def test_each_invitation_shows_whether_it_is_pending_accepted_expired_or_revoked(
    world: Practice5,
) -> None:
    invite(world.therapist, "Pending")
    accepted = invite(world.therapist, "Accepted")
    assert (
        Browser().post("/api/invitations/accept", accept_body(accepted, make_applicant())).status
        == 200
    )
    expire(invite(world.therapist, "Expired"))
    revoked = invite(world.therapist, "Revoked")
    assert revoke(world.therapist, row(revoked).pk).status == 200
    # Used up by answering that an email is taken: nobody joined, and it opens nothing.
    used_up = invite(world.therapist, "Used up")
    taken = accept_body(used_up, make_applicant(world.client.user.email))
    assert Browser().post("/api/invitations/accept", taken).code == "email_taken"

    assert states(world.therapist) == {
        "Pending": "pending",
        "Accepted": "accepted",
        "Expired": "expired",
        "Revoked": "revoked",
        "Used up": "expired",
    }


def lookup_body(invited: Invited) -> dict[str, Any]:
    return {"token": invited.token}


def late_accept_body(invited: Invited) -> dict[str, Any]:
    return accept_body(invited, make_applicant("late@client.invalid"))


def test_a_revoked_invitation_is_answered_revoked_and_its_link_opens_nothing(
    world: Practice5,
) -> None:
    invited, used = invite(world.therapist), invite(world.therapist)
    assert (
        Browser().post("/api/invitations/accept", accept_body(used, make_applicant())).status == 200
    )

    reply = revoke(world.therapist, row(invited).pk)

    assert reply.status == 200, reply.content
    item = InvitationItem.model_validate_json(reply.content)
    assert (item.id, item.state, item.conversation) == (
        row(invited).pk,
        "revoked",
        invited.conversation,
    )
    assert row(invited).revoked_at is not None
    # Lookup and accept answer as they do for a used invitation, word for word.
    for path, body in [
        ("/api/invitations/lookup", lookup_body),
        ("/api/invitations/accept", late_accept_body),
    ]:
        revoked_answer = Browser().post(path, body(invited))
        used_answer = Browser().post(path, body(used))
        assert (revoked_answer.status, revoked_answer.code) == (410, "invitation_invalid")
        assert revoked_answer.json() == used_answer.json()
    assert not User.objects.filter(email="late@client.invalid").exists()
    assert not Conversation.objects.filter(id=invited.conversation).exists()


def test_revoking_twice_changes_nothing_the_second_time(world: Practice5) -> None:
    invited = invite(world.therapist)
    first = revoke(world.therapist, row(invited).pk)
    revoked_at = row(invited).revoked_at

    again = revoke(world.therapist, row(invited).pk)

    assert again.status == 200
    assert again.json() == first.json()
    assert row(invited).revoked_at == revoked_at


def test_an_accepted_or_expired_invitation_is_answered_as_it_is_and_not_revoked(
    world: Practice5,
) -> None:
    accepted, expired = invite(world.therapist), invite(world.therapist)
    assert (
        Browser().post("/api/invitations/accept", accept_body(accepted, make_applicant())).status
        == 200
    )
    expire(expired)

    for invited, state in [(accepted, "accepted"), (expired, "expired")]:
        reply = revoke(world.therapist, row(invited).pk)
        assert reply.status == 200, reply.content
        assert reply.json()["state"] == state
        assert row(invited).revoked_at is None


def test_another_therapists_invitation_is_not_found_and_stays_pending(
    world: Practice5,
) -> None:
    theos = invite(world.therapist)

    reply = revoke(world.other_therapist, row(theos).pk)
    unknown = revoke(world.other_therapist, row(theos).pk + 1000)

    assert (reply.status, reply.code) == (404, "not_found")
    assert reply.json() == unknown.json()
    assert row(theos).revoked_at is None
    assert Browser().post("/api/invitations/lookup", {"token": theos.token}).status == 200


@pytest.mark.parametrize("invitation_id", [999_999, 2**63, 10**30])
def test_an_id_that_names_no_invitation_is_not_found(world: Practice5, invitation_id: int) -> None:
    reply = revoke(world.therapist, invitation_id)

    assert (reply.status, reply.code) == (404, "not_found")


@pytest.mark.parametrize("who", ["client", "admin"])
def test_a_client_or_an_admin_may_neither_list_nor_revoke(
    world: Practice5, browser_for: BrowserFor, who: str
) -> None:
    theos = invite(world.therapist)
    browser = browser_for(getattr(world, who))

    for reply in (
        browser.get(INVITATIONS),
        browser.post(f"{INVITATIONS}/{row(theos).pk}/revoke"),
    ):
        assert (reply.status, reply.code) == (403, "forbidden")
    assert row(theos).revoked_at is None
