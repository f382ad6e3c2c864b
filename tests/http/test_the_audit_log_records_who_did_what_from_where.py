"""What the audit log records of a practice's day (who, when, from where, what kind, never
a secret), and what an admin reads of it in the console: their practice's events only,
filtered, and downloaded as CSV with the hashes that let anyone check the chain."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Practice
from audit.log import record, verify
from audit.models import Event
from protocol.audit import AuditKind
from tests.http.conftest import ACCOUNT_EMAIL, PASSWORD, Account, Browser, BrowserFor
from tests.http.test_sign_in import a_wrong_secret, derive_auth_secret, sign_in
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

AGENT = "Mozilla/5.0 (audit test)"


def latest(kind: AuditKind) -> Event:
    return Event.objects.filter(kind=kind).latest("seq")


def test_a_failed_and_a_good_sign_in_are_recorded_with_address_and_browser(
    account: Account,
) -> None:
    browser = Browser(HTTP_USER_AGENT=AGENT, REMOTE_ADDR="203.0.113.7")
    secret = derive_auth_secret(browser, ACCOUNT_EMAIL, PASSWORD)
    assert sign_in(browser, ACCOUNT_EMAIL.upper(), a_wrong_secret()).status == 401
    failed = latest(AuditKind.SIGNIN_FAILED)
    assert (failed.actor, failed.actor_id, failed.practice_id) == (
        ACCOUNT_EMAIL,
        None,
        account.user.practice_id,
    )
    assert (failed.address, failed.user_agent) == ("203.0.113.7", AGENT)
    assert failed.subject == f"user:{account.user.pk}"

    assert sign_in(browser, ACCOUNT_EMAIL, secret).status == 200
    good = latest(AuditKind.SIGNIN)
    assert (good.actor_id, good.actor, good.address) == (
        account.user.pk,
        ACCOUNT_EMAIL,
        "203.0.113.7",
    )
    # Neither the secret nor anything derived from the password is in any row.
    for event in Event.objects.all():
        row = json.dumps([event.details, event.subject, event.actor, event.user_agent])
        assert secret not in row and PASSWORD not in row
    assert verify().ok


def test_an_admins_actions_are_recorded_as_theirs(
    world: Practice5, browser_for: BrowserFor
) -> None:
    admin = browser_for(world.admin)
    assert (
        admin.post(f"/api/admin/members/{world.therapist.id}/active", {"active": False}).status
        == 200
    )
    event = latest(AuditKind.ACCOUNT_DEACTIVATED)
    assert (event.actor_id, event.subject) == (world.admin.id, f"user:{world.therapist.id}")
    assert event.details == {"email": world.therapist.user.email, "role": "therapist"}
    link = admin.post(
        "/api/admin/setup-links",
        {"role": "therapist", "email": "new@practice.invalid", "display_name": "Newt"},
    )
    assert link.status == 200, link.content
    made = latest(AuditKind.SETUP_LINK_CREATED)
    assert made.actor_id == world.admin.id
    assert link.json()["token"] not in json.dumps(made.details)


def test_the_console_shows_the_practices_events_filtered(
    world: Practice5, browser_for: BrowserFor
) -> None:
    record(AuditKind.SIGNIN, actor=world.therapist.user)
    record(AuditKind.SIGNIN, actor=world.client.user)
    record(AuditKind.INVITATION_CREATED, actor=world.therapist.user, subject="invitation:1")
    other = Practice.objects.create(name="Elsewhere")
    record(AuditKind.SIGNIN, actor_email="x@elsewhere.invalid", practice_id=other.pk)
    admin = browser_for(world.admin)

    page = admin.get("/api/admin/audit").json()
    assert all(e["actor"] != "x@elsewhere.invalid" for e in page["events"])
    seqs = [e["seq"] for e in page["events"]]
    assert seqs == sorted(seqs, reverse=True)

    theirs = admin.get(f"/api/admin/audit?person={world.therapist.id}").json()["events"]
    assert {e["kind"] for e in theirs} >= {"signin", "invitation_created"}
    assert {e["actor_id"] for e in theirs} == {world.therapist.id}
    kind = admin.get("/api/admin/audit?kind=invitation_created").json()["events"]
    assert [e["subject"] for e in kind] == ["invitation:1"]
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    assert admin.get(f"/api/admin/audit?since={tomorrow}").json()["events"] == []

    record(
        AuditKind.SIGNIN_FAILED,
        actor_email=world.therapist.user.email,
        practice_id=world.practice.pk,
        subject=f"user:{world.therapist.id}",
    )
    about = admin.get(f"/api/admin/audit?person={world.therapist.id}").json()["events"]
    assert "signin_failed" in {e["kind"] for e in about}, "what was done to their account"
    far = admin.get("/api/admin/audit?until=9999-12-31")
    assert far.status == 400 and "Invalid filter" in far.json()["error"]["message"]
    bad = admin.get("/api/admin/audit?kind=everything")
    assert bad.status == 400 and "Invalid filter" in bad.json()["error"]["message"]
    assert browser_for(world.therapist).get("/api/admin/audit").status == 403


def test_the_csv_download_carries_the_hashes_and_is_itself_recorded(
    world: Practice5, browser_for: BrowserFor
) -> None:
    record(AuditKind.SIGNIN, actor=world.therapist.user)
    record(
        AuditKind.SIGNIN_FAILED,
        actor_email='=HYPERLINK("http://evil.invalid")',
        practice_id=world.practice.pk,
    )
    reply = browser_for(world.admin).get("/api/admin/audit.csv")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.content.decode())))
    assert rows and [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)
    # The chain is checkable from the file alone: each row links to the one before.
    for before, after in zip(rows, rows[1:], strict=False):
        if int(after["seq"]) == int(before["seq"]) + 1:
            assert after["previous"] == before["digest"]
    # ... and each row's hash can be made again from the file's own fields.
    for row in rows:
        fields = {
            "seq": int(row["seq"]),
            "at": row["at"],
            "kind": row["kind"],
            "actor_id": int(row["actor_id"]) if row["actor_id"] else None,
            "actor": row["actor"].removeprefix("'"),
            "practice_id": int(row["practice_id"]) if row["practice_id"] else None,
            "subject": row["subject"],
            "address": row["address"],
            "user_agent": row["user_agent"],
            "details": json.loads(row["details"]),
            "previous": row["previous"],
        }
        made = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(b"confide/v1/audit\n" + made.encode()).hexdigest() == row["digest"]
    formula = next(r for r in rows if "HYPERLINK" in r["actor"])
    assert formula["actor"].startswith("'=")
    downloaded = latest(AuditKind.AUDIT_DOWNLOADED)
    assert downloaded.actor_id == world.admin.id
