"""``confide create_practice`` and ``confide setup_link``: a practice from nothing, and its
first admin's one-time link (accounts/setup.py)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.agreement import current_agreement
from accounts.models import Practice, SetupLink
from accounts.setup import open_setup_link
from accounts.tokens import hash_token

pytestmark = pytest.mark.django_db

LINK = re.compile(r"^  (https?://\S+)/setup#([A-Za-z0-9_-]+)$", re.MULTILINE)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_practice_is_made_with_an_admin_link_and_the_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONFIDE_PUBLIC_URL", raising=False)
    output = run(
        "create_practice",
        "--name",
        "Lakeside Counselling",
        "--time-zone",
        "America/Los_Angeles",
        "--admin-email",
        "Ada@Lakeside.invalid",
        "--url",
        "https://portal.lakeside.invalid/",
    )
    practice = Practice.objects.get()
    assert (practice.name, practice.time_zone) == ("Lakeside Counselling", "America/Los_Angeles")
    assert [line["number"] for line in practice.crisis_lines] == ["988", "911"]
    assert current_agreement(practice.pk) is not None
    found = LINK.search(output)
    assert found is not None, output
    assert found.group(1) == "https://portal.lakeside.invalid"
    link = open_setup_link(found.group(2))
    assert (link.practice_id, link.role, link.email) == (
        practice.pk,
        "admin",
        "ada@lakeside.invalid",
    )
    assert link.token_hash == hash_token(found.group(2))
    assert found.group(2) not in str(SetupLink.objects.values().get())
    # The page the link opens is served.
    assert Client().get("/setup").status_code == 200


def test_the_link_is_built_on_the_public_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONFIDE_PUBLIC_URL", "https://confide.example.org")
    output = run(
        "create_practice", "--name", "P", "--time-zone", "UTC", "--admin-email", "a@p.invalid"
    )
    assert "  https://confide.example.org/setup#" in output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--time-zone", "Lakeside/Nowhere"], "not a time zone"),
        (["--admin-email", "not-an-email"], "not an email address"),
        (["--url", "ftp://portal.invalid"], "not a portal address"),
        (["--url", "https://user@portal.invalid"], "not a portal address"),
        (["--url", "http://portal.lakeside.invalid"], "plain http"),
        (["--name", "  "], "name"),
    ],
)
def test_bad_arguments_say_what_is_wrong_and_make_nothing(args: list[str], words: str) -> None:
    base = {
        "--name": "Lakeside",
        "--time-zone": "UTC",
        "--admin-email": "ada@lakeside.invalid",
        "--url": "https://portal.lakeside.invalid",
    }
    base[args[0]] = args[1]
    with pytest.raises(CommandError, match=words):
        run("create_practice", *[item for pair in base.items() for item in pair])
    assert not Practice.objects.exists()
    assert not SetupLink.objects.exists()


def test_another_link_for_an_existing_practice_replaces_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONFIDE_PUBLIC_URL", raising=False)
    first = run(
        "create_practice", "--name", "P", "--time-zone", "UTC", "--admin-email", "a@p.invalid"
    )
    practice = Practice.objects.get()
    second = run("setup_link", "--practice", str(practice.pk), "--email", "a@p.invalid")
    first_token = LINK.search(first)
    second_token = LINK.search(second)
    assert first_token is not None and second_token is not None
    assert second_token.group(1) == "http://127.0.0.1:8000"
    assert open_setup_link(second_token.group(2)).role == "admin"
    with pytest.raises(Exception, match="not valid"):
        open_setup_link(first_token.group(2))
    with pytest.raises(CommandError, match=r"No practice 999\. Practices: \d+ \(P\)"):
        run("setup_link", "--practice", "999", "--email", "b@p.invalid")


def test_a_deactivated_admin_is_reactivated_by_the_operator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accounts.models import Role, User
    from tests.personas import make_person

    practice = Practice.objects.create(name="P")
    ada = make_person(practice, Role.ADMIN, "Ada")
    User.objects.filter(pk=ada.id).update(is_active=False)
    assert "Reactivated 1 account(s)" in run("reactivate_user", "ADA@practice.invalid")
    assert User.objects.get(pk=ada.id).is_active
    with pytest.raises(CommandError, match="No account with the email: x@p.invalid"):
        run("reactivate_user", "x@p.invalid")


@pytest.mark.django_db
def test_a_therapist_who_lost_every_second_factor_is_reset_by_the_operator() -> None:
    from accounts.factors import has_second_factor, needs_enrolment
    from accounts.models import Passkey, RecoveryCode, Role, TotpDevice, User
    from tests.personas import make_person

    practice = Practice.objects.create(name="P")
    theo = make_person(practice, Role.THERAPIST, "Theo")
    other = make_person(practice, Role.THERAPIST, "Olive")
    assert has_second_factor(theo.user)
    password = User.objects.get(pk=theo.id).password

    said = run("reset_second_factor", "THEO@practice.invalid")

    assert "Removed 1 authenticator app(s)" in said
    assert "set up a new one before anything else" in said
    user = User.objects.get(pk=theo.id)
    assert not has_second_factor(user)
    assert needs_enrolment(user)
    assert user.password == password
    for model in (TotpDevice, Passkey, RecoveryCode):
        assert not model.objects.filter(user=user).exists()
    assert has_second_factor(User.objects.get(pk=other.id))
    with pytest.raises(CommandError, match="No account with the email: x@p.invalid"):
        run("reset_second_factor", "x@p.invalid")
