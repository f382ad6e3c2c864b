"""The job worker's own loop (django-tasks-db's) ends at the first database error it
meets: PostgreSQL restarted, failed over, or down for a while. ``confide serve`` runs it
again (``portal.worker.run_until_stopped``), waiting longer each time, so that the jobs of
a process (notifications, erasures, the periodic duties) go on once the database is back;
any other error still ends it, loudly."""

from __future__ import annotations

import logging

import pytest
from django.db import InterfaceError, OperationalError

from portal.worker import run_until_stopped


class Worker:
    """A worker whose runs fail as scripted, then end as a stopped worker's run does."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.runs = 0

    def run(self) -> None:
        self.runs += 1
        if self.failures:
            raise self.failures.pop(0)


def test_the_worker_runs_again_after_losing_the_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = Worker(OperationalError("server closed the connection"), InterfaceError("closed"))
    with caplog.at_level(logging.WARNING, logger="portal.worker"):
        run_until_stopped(worker, first_wait=0.01, longest_wait=0.02)
    assert worker.runs == 3
    lost = [r.getMessage() for r in caplog.records if "lost the database" in r.getMessage()]
    assert len(lost) == 2
    assert "OperationalError" in lost[0] and "InterfaceError" in lost[1]


def test_any_other_error_ends_the_worker() -> None:
    worker = Worker(RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        run_until_stopped(worker, first_wait=0.01)
    assert worker.runs == 1
