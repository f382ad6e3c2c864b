"""A practice's therapists and admins join through one-time setup links (accounts/setup.py):
the admin names the role and the email, the new member makes their keys in their own
browser, and the link then opens nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

import crypto
from accounts.models import Practice, Role, SetupLink, User
from accounts.setup import create_setup_link
from accounts.tokens import hash_token
from tests.http.conftest import Browser
from tests.http.practice import new_setup_link, setup_accept_body, staff_material
from tests.personas import Practice5, make_person

pytestmark = pytest.mark.django_db


def test_a_therapist_joins_through_an_admins_link_and_is_signed_in(world: Practice5) -> None:
    link = new_setup_link(world.admin, email="Wren@Practice.invalid")
    assert link["path"] == f"/setup#{link['token']}"
    newcomer = Browser()
    looked_up = newcomer.post("/api/setup/lookup", {"token": link["token"]})
    assert looked_up.status == 200, looked_up.content
    assert looked_up.json() == {
        "practice": "Lakeside Counselling",
        "role": "therapist",
        "email": "wren@practice.invalid",
        "display_name": "Wren",
        "expires_at": looked_up.json()["expires_at"],
    }
    material = staff_material()
    reply = newcomer.post(
        "/api/setup/accept", setup_accept_body(link["token"], material, "Dr. Wren")
    )
    assert reply.status == 200, reply.content
    me = reply.json()["user"]
    assert (me["role"], me["email"], me["display_name"]) == (
        "therapist",
        "wren@practice.invalid",
        "Dr. Wren",
    )
    assert me["public_identity"] == crypto.b64encode(material.public_identity.to_bytes())
    assert newcomer.signed_in_user() == me["id"]
    wren = User.objects.get(pk=me["id"])
    assert wren.practice_id == world.practice.pk
    assert wren.check_password(crypto.b64encode(material.auth_secret))
    # The same account signs in with its password through the ordinary flow.
    signed_in = Browser().post(
        "/api/auth/signin",
        {"email": "wren@practice.invalid", "auth_secret": crypto.b64encode(material.auth_secret)},
    )
    assert signed_in.status == 200, signed_in.content


def test_a_used_link_opens_nothing_more(world: Practice5) -> None:
    link = new_setup_link(world.admin)
    assert (
        Browser()
        .post("/api/setup/accept", setup_accept_body(link["token"], staff_material()))
        .status
        == 200
    )
    again = Browser().post(
        "/api/setup/accept", setup_accept_body(link["token"], staff_material(), "Someone")
    )
    assert (again.status, again.code) == (410, "setup_link_invalid")
    assert (
        Browser().post("/api/setup/lookup", {"token": link["token"]}).code == "setup_link_invalid"
    )
    assert User.objects.filter(email="wren@practice.invalid").count() == 1


def test_an_expired_or_revoked_link_is_refused_with_the_same_answer(world: Practice5) -> None:
    expired = new_setup_link(world.admin, email="old@practice.invalid")
    SetupLink.objects.filter(pk=expired["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked = new_setup_link(world.admin, email="gone@practice.invalid")
    admin = Browser().sign_in_as(world.admin)
    assert (
        admin.post(f"/api/admin/setup-links/{revoked['id']}/revoke").json()["link"]["state"]
        == "revoked"
    )
    answers = [
        Browser().post("/api/setup/accept", setup_accept_body(token, staff_material()))
        for token in (expired["token"], revoked["token"], "x" * 43)
    ]
    assert {(reply.status, reply.code) for reply in answers} == {(410, "setup_link_invalid")}
    assert {reply.json()["error"]["message"] for reply in answers} == {
        answers[0].json()["error"]["message"]
    }
    assert not User.objects.filter(
        email__in=["old@practice.invalid", "gone@practice.invalid"]
    ).exists()


def test_malformed_keys_are_refused_and_leave_the_link_usable(world: Practice5) -> None:
    link = new_setup_link(world.admin)
    material = staff_material()
    swapped = setup_accept_body(
        link["token"], material, key_bundle=crypto.b64encode(material.recovery_bundle)
    )
    reply = Browser().post("/api/setup/accept", swapped)
    assert (reply.status, reply.code) == (400, "bad_request")
    assert "key_bundle" in reply.json()["error"]["message"]
    weak = setup_accept_body(link["token"], material)
    weak["kdf"]["opslimit"] = 1
    assert Browser().post("/api/setup/accept", weak).code == "bad_request"
    assert not User.objects.filter(email="wren@practice.invalid").exists()
    assert (
        Browser().post("/api/setup/accept", setup_accept_body(link["token"], material)).status
        == 200
    )


def test_a_link_for_an_email_with_an_account_is_refused(world: Practice5) -> None:
    reply = (
        Browser()
        .sign_in_as(world.admin)
        .post(
            "/api/admin/setup-links",
            {"role": "therapist", "email": world.client.user.email.upper(), "display_name": "X"},
        )
    )
    assert (reply.status, reply.code) == (409, "email_taken")
    assert not SetupLink.objects.exists()


def test_an_email_taken_after_the_link_was_made_is_refused_at_sign_up(world: Practice5) -> None:
    link = new_setup_link(world.admin, email="late@practice.invalid")
    User.objects.filter(pk=world.other_client.id).update(email="late@practice.invalid")
    reply = Browser().post("/api/setup/accept", setup_accept_body(link["token"], staff_material()))
    assert (reply.status, reply.code) == (409, "email_taken")
    assert User.objects.filter(email="late@practice.invalid").get().pk == world.other_client.id


def test_a_new_link_for_the_same_email_revokes_the_earlier_one(world: Practice5) -> None:
    first = new_setup_link(world.admin)
    second = new_setup_link(world.admin)
    assert (
        Browser().post("/api/setup/lookup", {"token": first["token"]}).code == "setup_link_invalid"
    )
    assert Browser().post("/api/setup/lookup", {"token": second["token"]}).status == 200
    states = Browser().sign_in_as(world.admin).get("/api/admin/setup-links").json()["links"]
    assert [(row["id"], row["state"], row["created_by"]) for row in states] == [
        (second["id"], "pending", "Ada"),
        (first["id"], "revoked", "Ada"),
    ]
    assert "token" not in str(states)


def test_an_admin_link_makes_an_admin(world: Practice5) -> None:
    link = new_setup_link(world.admin, email="abe@practice.invalid", role="admin")
    reply = Browser().post("/api/setup/accept", setup_accept_body(link["token"], staff_material()))
    assert reply.json()["user"]["role"] == "admin"


def test_a_link_cannot_make_a_client(world: Practice5) -> None:
    reply = (
        Browser()
        .sign_in_as(world.admin)
        .post(
            "/api/admin/setup-links",
            {"role": "client", "email": "c@practice.invalid", "display_name": "C"},
        )
    )
    assert (reply.status, reply.code) == (400, "bad_request")
    with pytest.raises(ValueError, match="therapist or an admin"):
        create_setup_link(world.practice, Role.CLIENT, "c@practice.invalid", "C")


def test_another_practices_admin_cannot_see_or_revoke_a_link(world: Practice5) -> None:
    link = new_setup_link(world.admin)
    elsewhere = Practice.objects.create(name="Hillside")
    other_admin = Browser().sign_in_as(make_person(elsewhere, Role.ADMIN, "Abe"))
    assert other_admin.post(f"/api/admin/setup-links/{link['id']}/revoke").code == "not_found"
    assert other_admin.get("/api/admin/setup-links").json() == {"links": []}
    assert SetupLink.objects.get(pk=link["id"]).revoked_at is None


def test_only_the_tokens_hash_is_kept(world: Practice5) -> None:
    link = new_setup_link(world.admin)
    stored = SetupLink.objects.get(pk=link["id"])
    assert stored.token_hash == hash_token(link["token"])
    assert link["token"] not in str(SetupLink.objects.values().get(pk=link["id"]))


def test_links_made_by_an_admin_stop_working_when_that_admin_is_deactivated(
    world: Practice5,
) -> None:
    abe = make_person(world.practice, Role.ADMIN, "Abe")
    link = new_setup_link(abe, email="mallory@elsewhere.invalid", role="admin")
    reply = (
        Browser()
        .sign_in_as(world.admin)
        .post(f"/api/admin/members/{abe.id}/active", {"active": False})
    )
    assert reply.status == 200, reply.content
    accepted = Browser().post(
        "/api/setup/accept", setup_accept_body(link["token"], staff_material())
    )
    assert (accepted.status, accepted.code) == (410, "setup_link_invalid")
    assert SetupLink.objects.get(pk=link["id"]).revoked_at is not None
    assert not User.objects.filter(email="mallory@elsewhere.invalid").exists()


def test_a_link_made_before_its_maker_lost_access_some_other_way_opens_nothing(
    world: Practice5,
) -> None:
    abe = make_person(world.practice, Role.ADMIN, "Abe")
    link = new_setup_link(abe, email="mallory@elsewhere.invalid", role="admin")
    User.objects.filter(pk=abe.id).update(is_active=False)  # not through the console
    reply = Browser().post("/api/setup/lookup", {"token": link["token"]})
    assert (reply.status, reply.code) == (410, "setup_link_invalid")


def test_an_admin_cannot_learn_whether_an_email_has_an_account_in_another_practice(
    world: Practice5,
) -> None:
    elsewhere = Practice.objects.create(name="Hillside")
    eve = make_person(elsewhere, Role.ADMIN, "Eve")
    made = [
        Browser()
        .sign_in_as(eve)
        .post(
            "/api/admin/setup-links",
            {"role": "therapist", "email": email, "display_name": "X"},
        )
        for email in (world.client.user.email, "nobody@nowhere.invalid")
    ]
    assert [reply.status for reply in made] == [200, 200]
    refused = Browser().post(
        "/api/setup/accept", setup_accept_body(made[0].json()["token"], staff_material())
    )
    unknown = Browser().post("/api/setup/lookup", {"token": "x" * 43})
    assert (refused.status, refused.code) == (410, "setup_link_invalid")
    assert refused.content == unknown.content
    assert User.objects.get(email=world.client.user.email).practice_id == world.practice.pk


@override_settings(CONFIDE_SETUP_LINKS_PER_DAY=2)
def test_an_admin_makes_a_bounded_number_of_links_a_day(world: Practice5) -> None:
    admin = Browser().sign_in_as(world.admin)
    answers = [
        admin.post(
            "/api/admin/setup-links",
            {"role": "therapist", "email": f"t{number}@practice.invalid", "display_name": "T"},
        )
        for number in range(3)
    ]
    assert [reply.status for reply in answers] == [200, 200, 429]
    assert answers[2].code == "rate_limited"
    assert SetupLink.objects.count() == 2


@pytest.mark.parametrize("name", ["Wren\u202e", "Wren\u200b", "Wren\x85", "\ufeffWren"])
def test_a_name_with_invisible_or_reordering_characters_is_refused(
    world: Practice5, name: str
) -> None:
    reply = (
        Browser()
        .sign_in_as(world.admin)
        .post(
            "/api/admin/setup-links",
            {"role": "therapist", "email": "wren@practice.invalid", "display_name": name},
        )
    )
    assert (reply.status, reply.code) == (400, "bad_request")
    assert not SetupLink.objects.exists()
