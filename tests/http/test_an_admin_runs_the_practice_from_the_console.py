"""The admin console's endpoints (accounts/console.py, messaging/console.py): members
deactivated and reactivated, the practice's settings, client invitations of every
therapist. What an admin may not see is in test_an_admin_sees_no_content.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Practice, Role, User
from messaging.models import Invitation
from messaging.services.invitations import LISTED_INVITATIONS
from tests.http.conftest import Browser, invite
from tests.personas import Practice5, make_person

pytestmark = pytest.mark.django_db


def test_a_deactivated_therapist_is_signed_out_everywhere_and_can_come_back(
    world: Practice5,
) -> None:
    theo = Browser().sign_in_as(world.therapist)
    admin = Browser().sign_in_as(world.admin)
    reply = admin.post(f"/api/admin/members/{world.therapist.id}/active", {"active": False})
    assert reply.status == 200, reply.content
    assert reply.json()["member"]["is_active"] is False
    assert theo.signed_in_user() is None
    assert not User.objects.get(pk=world.therapist.id).is_active
    back = admin.post(f"/api/admin/members/{world.therapist.id}/active", {"active": True})
    assert back.json()["member"]["is_active"] is True
    assert Browser().sign_in_as(world.therapist).signed_in_user() == world.therapist.id


def test_an_admin_cannot_deactivate_themselves(world: Practice5) -> None:
    admin = Browser().sign_in_as(world.admin)
    reply = admin.post(f"/api/admin/members/{world.admin.id}/active", {"active": False})
    assert (reply.status, reply.code) == (403, "forbidden")
    assert "another admin" in reply.json()["error"]["message"]
    assert User.objects.get(pk=world.admin.id).is_active


def test_members_of_another_practice_are_not_found(world: Practice5) -> None:
    stranger = make_person(Practice.objects.create(name="Hillside"), Role.CLIENT, "Sol")
    admin = Browser().sign_in_as(world.admin)
    for user_id in (stranger.id, 10**12, 2**63):
        reply = admin.post(f"/api/admin/members/{user_id}/active", {"active": False})
        assert (reply.status, reply.code) == (404, "not_found")
    assert User.objects.get(pk=stranger.id).is_active
    listed = {row["display_name"] for row in admin.get("/api/admin/members").json()["members"]}
    assert listed == {"Ada", "Theo", "Olive", "Clara", "Oscar"}


def test_members_are_listed_staff_first_without_keys(world: Practice5) -> None:
    members = Browser().sign_in_as(world.admin).get("/api/admin/members").json()["members"]
    assert [(row["role"], row["display_name"]) for row in members] == [
        ("admin", "Ada"),
        ("therapist", "Olive"),
        ("therapist", "Theo"),
        ("client", "Clara"),
        ("client", "Oscar"),
    ]
    assert set(members[0]) == {
        "id",
        "display_name",
        "email",
        "role",
        "is_active",
        "date_joined",
        "last_login",
    }


def test_the_practice_settings_start_with_988_and_911_and_change_together(
    world: Practice5,
) -> None:
    admin = Browser().sign_in_as(world.admin)
    settings = admin.get("/api/admin/practice").json()["practice"]
    assert [line["number"] for line in settings["crisis_lines"]] == ["988", "911"]
    assert settings["time_zone"] == "UTC"
    changed = {
        "name": "Lakeside Counselling Group",
        "time_zone": "America/Los_Angeles",
        "crisis_lines": [
            {"label": "Suicide & Crisis Lifeline (call or text)", "number": "988"},
            {"label": "Crisis Text Line (text HOME)", "number": "741741"},
            {"label": "Emergency", "number": "911"},
        ],
        "reply_promise": "Usually answered within one business day.",
    }
    reply = admin.post("/api/admin/practice", changed)
    assert reply.status == 200, reply.content
    # Retention after discharge, not sent, is unchanged.
    assert reply.json()["practice"] == {**changed, "retention_years": 7}
    # Every member sees them (the client's crisis lines and reply promise).
    me = Browser().sign_in_as(world.client).get("/api/me").json()["user"]["practice"]
    assert me["crisis_lines"] == changed["crisis_lines"]
    assert me["reply_promise"] == changed["reply_promise"]
    assert me["name"] == "Lakeside Counselling Group"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "not a time zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone"),
        ({"name": "Lakeside\nCounselling"}, "name"),
        ({"name": " "}, "name"),
        ({"crisis_lines": []}, "crisis_lines"),
        ({"crisis_lines": [{"label": "Call", "number": "javascript:alert(1)"}]}, "number"),
        ({"reply_promise": "x" * 301}, "reply_promise"),
        ({"crisis_lines": [{"label": "Lifeline\u202e", "number": "988"}]}, "label"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    world: Practice5, change: dict[str, object], words: str
) -> None:
    admin = Browser().sign_in_as(world.admin)
    before = admin.get("/api/admin/practice").json()["practice"]
    reply = admin.post("/api/admin/practice", {**before, **change})
    assert (reply.status, reply.code) == (400, "bad_request")
    assert words in reply.json()["error"]["message"]
    assert admin.get("/api/admin/practice").json()["practice"] == before


def test_an_admin_sees_and_revokes_any_therapists_invitation(world: Practice5) -> None:
    theos = invite(world.therapist, "Nina")
    olives = invite(world.other_therapist, "Noor")
    admin = Browser().sign_in_as(world.admin)
    listed = admin.get("/api/admin/invitations").json()["invitations"]
    assert [(row["client_name"], row["therapist"], row["state"]) for row in listed] == [
        ("Noor", "Olive", "pending"),
        ("Nina", "Theo", "pending"),
    ]
    nina = next(row["id"] for row in listed if row["client_name"] == "Nina")
    revoked = admin.post(f"/api/admin/invitations/{nina}/revoke")
    assert revoked.json()["state"] == "revoked"
    assert Browser().post("/api/invitations/lookup", {"token": theos.token}).code == (
        "invitation_invalid"
    )
    assert Browser().post("/api/invitations/lookup", {"token": olives.token}).status == 200


def test_another_practices_invitation_is_not_found_for_an_admin(world: Practice5) -> None:
    elsewhere = Practice.objects.create(name="Hillside")
    stranger = make_person(elsewhere, Role.THERAPIST, "Sol")
    invite(stranger, "Nina")
    invitation = Invitation.objects.get(therapist=stranger.user)
    admin = Browser().sign_in_as(world.admin)
    assert admin.post(f"/api/admin/invitations/{invitation.pk}/revoke").code == "not_found"
    assert admin.get("/api/admin/invitations").json() == {"invitations": []}
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_the_invitation_lists_are_the_newest_and_bounded(world: Practice5) -> None:
    now = timezone.now()
    Invitation.objects.bulk_create(
        Invitation(
            token_hash=f"{number:064x}",
            therapist=world.therapist.user,
            client_name=f"Client {number}",
            created_at=now - timedelta(minutes=number),
            expires_at=now + timedelta(hours=1),
        )
        for number in range(LISTED_INVITATIONS + 5)
    )
    for who, path in (
        (world.admin, "/api/admin/invitations"),
        (world.therapist, "/api/invitations"),
    ):
        listed = Browser().sign_in_as(who).get(path).json()
        names = [row["client_name"] for row in listed["invitations"]]
        assert len(names) == LISTED_INVITATIONS, path
        assert names[0] == "Client 0" and names[-1] == f"Client {LISTED_INVITATIONS - 1}"
