"""The periodic job (portal/periodic.py): each duty runs once per its interval wherever the
last run happened, the audit log's head reaches the log output, and however many workers
start, one tick stays waiting."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from audit.log import record
from portal.models import DutyRun
from portal.periodic import TICK_PATH, ensure_ticking, run_due, tick
from protocol.audit import AuditKind

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_ticks() -> int:
    return DBTaskResult.objects.filter(task_path=TICK_PATH, status=TaskResultStatus.READY).count()


def test_each_duty_runs_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    event = record(AuditKind.SIGNIN, actor_email="clara@example.invalid")
    with caplog.at_level(logging.INFO, logger="audit"):
        assert run_due() == [
            "audit_anchor",
            "audit_retention",
            "conversation_erasure",
            "attachment_collection",
        ]
    heads = [r for r in caplog.records if r.getMessage().startswith("audit_head")]
    assert [r.getMessage() for r in heads] == [f"audit_head seq={event.seq} hash={event.digest}"]
    assert run_due() == []
    DutyRun.objects.filter(name="audit_anchor").update(last_run=timezone.now() - timedelta(hours=2))
    assert run_due() == ["audit_anchor"]


@override_settings(CONFIDE_AUDIT_RETENTION_YEARS=6)
def test_a_failing_duty_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    from audit import jobs

    def broken() -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(jobs, "anchor", broken)
    assert run_due() == ["audit_retention", "conversation_erasure", "attachment_collection"]
    # The failed duty is due again at the next tick; the one that ran is not.
    monkeypatch.undo()
    assert run_due() == ["audit_anchor"]


def test_workers_starting_together_leave_one_tick_waiting() -> None:
    ensure_ticking()
    ensure_ticking()
    assert waiting_ticks() == 1
    # Two ticks enqueued by two processes at the same moment: running one sees the other
    # waiting and enqueues none, so one chain remains.
    tick.enqueue()
    assert waiting_ticks() == 2
    tick.call()
    assert waiting_ticks() == 2
    DBTaskResult.objects.filter(task_path=TICK_PATH).delete()
    tick.call()
    assert waiting_ticks() == 1
    queued = DBTaskResult.objects.get(task_path=TICK_PATH, status=TaskResultStatus.READY)
    assert queued.run_after is not None and queued.run_after > timezone.now()
