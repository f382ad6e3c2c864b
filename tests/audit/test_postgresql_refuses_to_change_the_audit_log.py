"""On PostgreSQL the database itself refuses UPDATE and DELETE of an audit event (a
trigger of migration audit 0001), whoever asks; only the retention cut deletes, the oldest
rows only, and records that it did."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.log import Anchor, prune, record, verify
from audit.models import Event, Head, PrunePermit
from protocol.audit import AuditKind
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgresql() -> None:
    require_service("DATABASE_URL", "PostgreSQL (postgres://postgres@127.0.0.1:5432/confide_ci)")
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET kind = 'signout' WHERE seq = %s",
        "UPDATE audit_event SET seq = seq + 1000 WHERE seq = %s",
        "DELETE FROM audit_event WHERE seq = %s",
    ],
)
def test_an_edit_in_sql_is_refused(statement: str) -> None:
    event = record(AuditKind.SIGNIN, actor_email="clara@example.invalid")
    with pytest.raises(DatabaseError, match="the audit log is append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.seq])
    assert Event.objects.get(seq=event.seq).kind == "signin"
    assert verify().ok


def test_the_orm_is_refused_too() -> None:
    event = record(AuditKind.SIGNIN, actor_email="clara@example.invalid")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(seq=event.seq).update(actor="someone@else.invalid")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(seq=event.seq).delete()


def test_retention_cuts_only_the_oldest_rows_and_the_chain_still_verifies() -> None:
    old = [record(AuditKind.SIGNIN, actor_email=f"old{n}@example.invalid") for n in range(3)]
    with connection.cursor() as cursor:
        # Make them seven years old: the trigger is off for this transaction only.
        cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        cursor.execute(
            "UPDATE audit_event SET at = at - interval '7 years' WHERE seq <= %s", [old[-1].seq]
        )
        cursor.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    # Their hashes no longer match (the test changed them): recompute nothing, only check
    # that the cut removes exactly them and leaves a chain that starts where it says.
    recent = [record(AuditKind.SIGNIN, actor_email=f"new{n}@example.invalid") for n in range(2)]
    assert prune(6, now=timezone.now() + timedelta(seconds=1)) == len(old)
    assert not Event.objects.filter(seq__lte=old[-1].seq).exists()
    head = Head.objects.get(pk=1)
    assert (head.pruned_seq, head.pruned_digest) == (old[-1].seq, old[-1].digest)
    cut = Event.objects.get(kind=AuditKind.AUDIT_PRUNED)
    assert cut.details == {
        "through_seq": old[-1].seq,
        "through_digest": old[-1].digest,
        "rows": 3,
        "years": 6,
    }
    # An anchor of the cut's last row still checks; one of a removed row is passed over.
    assert verify([Anchor(old[-1].seq, old[-1].digest), Anchor(old[0].seq, old[0].digest)]).ok
    assert not verify([Anchor(old[-1].seq, "0" * 64)]).ok
    assert verify().ok, verify().finding
    assert Event.objects.filter(seq__in=[e.seq for e in recent]).count() == 2
    # Outside the cut, a DELETE is refused again (the permit was the cut's alone).
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(seq=recent[0].seq).delete()


def test_a_cut_the_log_does_not_record_is_found() -> None:
    events = [record(AuditKind.SIGNIN, actor_email=f"p{n}@example.invalid") for n in range(4)]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        cursor.execute("DELETE FROM audit_event WHERE seq <= %s", [events[1].seq])
    Head.objects.filter(pk=1).update(pruned_seq=events[1].seq, pruned_digest=events[1].digest)
    assert str(verify().finding) == (
        f"row {events[1].seq}: the rows before this one are gone, and no retention cut says so"
    )


def test_a_permit_lets_through_only_the_rows_it_names() -> None:
    """The cut's permit names the newest row it may remove: with it, a later row is still
    refused (a bug in the cut, or a statement slipped into its transaction)."""
    events = [record(AuditKind.SIGNIN, actor_email=f"p{n}@example.invalid") for n in range(3)]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PrunePermit.objects.create(pk=1, through=events[0].seq)
        Event.objects.filter(seq=events[0].seq).delete()
        Event.objects.filter(seq=events[2].seq).delete()
    assert Event.objects.filter(seq__in=[e.seq for e in events]).count() == 3
