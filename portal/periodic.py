"""Work done every so often, as one job of Django's tasks framework that enqueues its own
next run (the database backend has no timetable of its own).

:func:`tick` runs whatever is due (each duty at most once per its interval, wherever the
last run happened, from :class:`~portal.models.DutyRun`), then enqueues the next tick.
Every worker (``portal.worker``, ``confide db_worker``) makes sure a tick is waiting; a tick
enqueues its successor only if none waits, deciding under a row lock, so one chain of
ticks remains whatever the number of workers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from audit import jobs as audit_jobs
from messaging.services import attachments, erasure

log = logging.getLogger(__name__)

TICK_PATH = "portal.periodic.tick"


@dataclass(frozen=True)
class Duty:
    name: str
    every: Callable[[], timedelta]
    run: Callable[[], object]


def duties() -> tuple[Duty, ...]:
    return (
        Duty(
            "audit_anchor",
            lambda: timedelta(seconds=settings.CONFIDE_AUDIT_ANCHOR_SECONDS),
            audit_jobs.anchor,
        ),
        Duty("audit_retention", lambda: timedelta(days=1), audit_jobs.keep_for_retention),
        # Discharged conversations past their practice's retention, requested erasures
        # whose job was lost, and interrupted erasures (messaging.services.erasure).
        Duty("conversation_erasure", lambda: timedelta(hours=1), erasure.sweep),
        # Uploads left incomplete past CONFIDE_ATTACHMENT_ABANDON_HOURS, with their parts.
        Duty("attachment_collection", lambda: timedelta(hours=1), attachments.collect_abandoned),
    )


def run_due() -> list[str]:
    """Runs each duty whose interval has passed since its last run; returns their names.
    Each duty is claimed in a transaction (its row locked), so two workers never run it
    at once, and one that fails is logged and tried at the next tick."""
    from portal.models import DutyRun

    ran = []
    for duty in duties():
        with transaction.atomic():
            row, _ = DutyRun.objects.select_for_update().get_or_create(name=duty.name)
            now = timezone.now()
            previous = row.last_run
            if previous is not None and now - previous < duty.every():
                continue
            row.last_run = now
            row.save(update_fields=["last_run"])
        try:
            duty.run()
            ran.append(duty.name)
        except Exception:
            log.exception("the periodic duty %s failed; it runs again at the next tick", duty.name)
            DutyRun.objects.filter(name=duty.name, last_run=now).update(last_run=previous)
    return ran


@task()
def tick() -> None:
    try:
        run_due()
    finally:
        _enqueue_next(timezone.now() + timedelta(seconds=settings.CONFIDE_TICK_SECONDS))


def _waiting() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=TICK_PATH, status=TaskResultStatus.READY).count()


def _enqueue_next(when: datetime | None = None) -> None:
    """Enqueues a tick unless one waits already. The look and the enqueue happen under one
    row lock, so that two ticks ending at once (or two workers starting) leave one."""
    from portal.models import DutyRun

    with transaction.atomic():
        DutyRun.objects.get_or_create(name="tick")
        DutyRun.objects.select_for_update().get(name="tick")
        if not _waiting():
            (tick if when is None else tick.using(run_after=when)).enqueue()


def ensure_ticking() -> None:
    """Enqueues a tick unless one waits already: when a worker starts (``confide serve``'s,
    or ``confide db_worker``)."""
    _enqueue_next()
