"""The job worker ``confide serve`` runs beside the server (``CONFIDE_WORKER``, on by
default): the database backend's own worker (``django_tasks_db``), on a thread of the
server process, so that the embedded default needs no second process and a job that asks
whether someone has a live socket sees this process's sockets. More server processes mean
more workers; the database gives each job to one of them. ``confide db_worker`` runs one
on its own (with ``CONFIDE_WORKER=false`` on the servers)."""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from portal.periodic import ensure_ticking

__all__ = ["requeue_abandoned", "start_worker"]

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
    thread = threading.Thread(target=worker.run, name="confide-worker", daemon=True)
    thread.start()
    log.info("job worker started")
    return thread


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
