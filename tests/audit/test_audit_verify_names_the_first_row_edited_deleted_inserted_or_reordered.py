"""``confide audit verify`` against an audit log changed by hand in SQL, as someone with
the database's password could: each kind of change is found, at the row where it is.

On PostgreSQL the trigger is switched off first for the test's transaction (it refuses
these very statements: test_postgresql_refuses_to_change_the_audit_log.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.log import Anchor, canonical, record, verify
from audit.models import Event
from protocol.audit import AuditKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten() -> list[Event]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    return [
        record(AuditKind.SIGNIN_FAILED, actor_email=f"p{n}@example.invalid", details={"n": n})
        for n in range(10)
    ]


def sql(statement: str, *params: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def finding() -> str:
    report = verify()
    assert report.finding is not None, "the change went unnoticed"
    return str(report.finding)


def test_an_untouched_log_verifies_and_the_command_says_so(
    ten: list[Event], capsys: pytest.CaptureFixture[str]
) -> None:
    report = verify()
    assert report.ok and report.checked == 10 and report.last_seq == ten[-1].seq
    call_command("audit", "verify")
    assert f"head {ten[-1].seq}:{ten[-1].digest}" in capsys.readouterr().out


def test_an_edited_row_is_named(ten: list[Event]) -> None:
    sql("UPDATE audit_event SET actor = %s WHERE seq = %s", "someone@else.invalid", ten[4].seq)
    assert (
        finding()
        == f"row {ten[4].seq}: its contents do not match its hash: edited after it was written"
    )
    with pytest.raises(CommandError, match=f"row {ten[4].seq}: its contents"):
        call_command("audit", "verify")


def test_a_deleted_row_is_named(ten: list[Event]) -> None:
    sql("DELETE FROM audit_event WHERE seq = %s", ten[3].seq)
    assert finding() == f"row {ten[3].seq}: row {ten[3].seq} is missing: deleted from the log"


def test_rows_deleted_from_the_end_are_named(ten: list[Event]) -> None:
    sql("DELETE FROM audit_event WHERE seq >= %s", ten[8].seq)
    assert finding() == (
        f"row {ten[8].seq}: rows {ten[8].seq} to {ten[9].seq} are missing: "
        "deleted from the end of the log"
    )


def test_a_reorder_is_named(ten: list[Event]) -> None:
    a, b = ten[5].seq, ten[6].seq
    sql("UPDATE audit_event SET seq = -1 WHERE seq = %s", a)
    sql("UPDATE audit_event SET seq = %s WHERE seq = %s", a, b)
    sql("UPDATE audit_event SET seq = %s WHERE seq = -1", b)
    assert finding() == (
        f"row {a}: it was written after the row now numbered {b}: rows were reordered"
    )


def _forge(seq: int, previous: str, at: datetime, kind: str = "signin") -> tuple[Any, ...]:
    """A row made the way the portal makes one, hash and all."""
    event = Event(
        seq=seq,
        at=at,
        kind=kind,
        actor_id=None,
        actor="forged@example.invalid",
        practice_id=None,
        subject="",
        address="",
        user_agent="",
        details={},
        previous=previous,
    )
    digest = hashlib.sha256(b"confide/v1/audit\n" + canonical(event)).hexdigest()
    return (seq, at, kind, "forged@example.invalid", json.dumps({}), previous, digest)


def _insert(row: tuple[Any, ...]) -> None:
    sql(
        "INSERT INTO audit_event (seq, at, kind, actor, subject, address, user_agent, details,"
        " previous, digest) VALUES (%s, %s, %s, %s, '', '', '', %s, %s, %s)",
        *row,
    )


def test_a_row_inserted_with_a_correct_hash_is_named(ten: list[Event]) -> None:
    # Make room after row 3 of the ten, then forge a row that links to it.
    k = ten[3].seq
    for event in reversed(ten[3:]):
        sql("UPDATE audit_event SET seq = %s WHERE seq = %s", event.seq + 1, event.seq)
    _insert(_forge(k, ten[2].digest, ten[2].at))
    assert finding() == f"row {k + 1}: it was written right after row {k - 1}: row {k} was inserted"


def test_a_row_added_after_the_head_is_named(ten: list[Event]) -> None:
    _insert(_forge(ten[9].seq + 1, ten[9].digest, ten[9].at))
    assert finding() == f"row {ten[9].seq + 1}: added after the head: written outside the portal"


def test_a_chain_rewritten_with_fresh_hashes_is_caught_by_an_anchor(ten: list[Event]) -> None:
    """Someone who deletes rows 6 to 10 and forges new ones with correct hashes, and moves
    the head, gets past the chain; an audit_head line kept elsewhere does not agree."""
    anchor = Anchor(ten[7].seq, ten[7].digest)
    sql("DELETE FROM audit_event WHERE seq >= %s", ten[5].seq)
    previous = ten[4].digest
    for seq in range(ten[5].seq, ten[9].seq + 1):
        row = _forge(seq, previous, ten[9].at)
        _insert(row)
        previous = str(row[-1])
    sql("UPDATE audit_head SET digest = %s WHERE id = 1", previous)
    assert verify().ok
    report = verify([anchor])
    assert str(report.finding) == (
        f"row {anchor.seq}: its hash differs from the anchor's: the chain was rewritten"
    )
    with pytest.raises(CommandError, match="the chain was rewritten"):
        call_command("audit", "verify", "--anchor", f"{anchor.seq}:{anchor.digest}")


def test_an_anchor_that_is_not_an_anchor_is_refused_clearly(ten: list[Event]) -> None:
    with pytest.raises(CommandError, match="is not an anchor: give SEQ:HASH"):
        call_command("audit", "verify", "--anchor", "12:nothex")


def test_a_row_edited_and_given_a_fresh_hash_is_named(ten: list[Event]) -> None:
    """The edited row's own hash is made again, so it matches its contents; the row after
    it was written after the old hash, which names the edited row."""
    edited = Event.objects.get(seq=ten[2].seq)
    edited.actor = "someone@else.invalid"
    edited.digest = hashlib.sha256(b"confide/v1/audit\n" + canonical(edited)).hexdigest()
    sql(
        "UPDATE audit_event SET actor = %s, digest = %s WHERE seq = %s",
        edited.actor,
        edited.digest,
        edited.seq,
    )
    assert finding() == (
        f"row {ten[2].seq}: its hash is not the one row {ten[3].seq} was written after: "
        "edited after it was written, and its hash made again"
    )
