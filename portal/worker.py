"""The job worker ``confide serve`` runs beside the server (``CONFIDE_WORKER``, on by
default): the database backend's own worker (``django_tasks_db``), on a thread of the
server process, so that the embedded default needs no second process and a job that asks
whether someone has a live socket sees this process's sockets. More server processes mean
more workers; the database gives each job to one of them. ``confide db_worker`` runs one
on its own (with ``CONFIDE_WORKER=false`` on the servers)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils import timezone

from portal.periodic import ensure_ticking

__all__ = ["requeue_abandoned", "run_until_stopped", "start_worker"]

# A job running longer than this was abandoned: its process ended while it ran. (A job of
# many emails to a silent SMTP server takes at most its items times the SMTP timeout.)
ABANDONED_AFTER = timedelta(hours=1)

log = logging.getLogger(__name__)


def start_worker() -> threading.Thread | None:
    """Starts the worker thread (a daemon: it ends with the process); None when
    ``CONFIDE_WORKER`` is off."""
    if not settings.CONFIDE_WORKER:
        return None
    from django_tasks_db.management.commands.db_worker import Worker

    requeue_abandoned()
    ensure_ticking()
    smtp = settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    if smtp and not settings.CONFIDE_PUBLIC_URL:
        log.warning("CONFIDE_PUBLIC_URL is not set: notification emails link to this machine")
    if settings.PRODUCTION and not settings.CONFIDE_VAPID_PRIVATE_KEY:
        log.info("CONFIDE_VAPID_PRIVATE_KEY is not set: no Web Push, emails only")

    worker = Worker(
        queue_names=["default"],
        interval=settings.CONFIDE_WORKER_INTERVAL_SECONDS,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"serve-{os.getpid()}",
        excluded_queue_names=[],
    )
    thread = threading.Thread(
        target=run_until_stopped, args=(worker,), name="confide-worker", daemon=True
    )
    thread.start()
    log.info("job worker started")
    return thread


class _Runs(Protocol):
    def run(self) -> None: ...


def run_until_stopped(
    worker: _Runs, *, first_wait: float = 1.0, longest_wait: float = 30.0
) -> None:
    """Runs the worker, and again after it lost the database (PostgreSQL restarted,
    failed over, or is down for a while): its own loop ends at the first such error, and
    the jobs of this process would wait for its restart. The wait between two tries
    doubles up to ``longest_wait``, and starts again once a run got going."""
    wait = first_wait
    while True:
        started = time.monotonic()
        try:
            worker.run()
            return
        except (OperationalError, InterfaceError) as exc:
            log.warning(
                "the job worker lost the database (%s); again in %.0f s", type(exc).__name__, wait
            )
        with contextlib.suppress(DatabaseError):
            connection.close()  # the next run connects afresh
        time.sleep(wait)
        wait = (
            first_wait if time.monotonic() - started > longest_wait else min(wait * 2, longest_wait)
        )


def requeue_abandoned() -> int:
    """Puts back, to be run again, the jobs a worker claimed and never finished (its
    process stopped while they ran): django-tasks-db leaves them running for ever. Returns
    how many."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    count: int = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=timezone.now() - ABANDONED_AFTER)
        .update(status=TaskResultStatus.READY, started_at=None)
    )
    if count:
        log.warning("%d abandoned job(s) put back to run again", count)
    return count
