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

from django.conf import settings

__all__ = ["start_worker"]

log = logging.getLogger(__name__)


def start_worker() -> threading.Thread | None:
    """Starts the worker thread (a daemon: it ends with the process); None when
    ``CONFIDE_WORKER`` is off."""
    if not settings.CONFIDE_WORKER:
        return None
    from django_tasks_db.management.commands.db_worker import Worker

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
