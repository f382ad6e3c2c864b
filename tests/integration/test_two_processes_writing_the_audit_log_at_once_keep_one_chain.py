"""Two processes on one PostgreSQL record audit events at the same moment: every event is
kept, each sequence number once, and the whole chain verifies (the head row orders the
writers, audit/log.py)."""

from __future__ import annotations

import threading

from harness.servers import Stack

PER_PROCESS = 300
WRITE = """
from audit.log import record
from protocol.audit import AuditKind
for n in range({count}):
    record(AuditKind.SIGNIN_FAILED, actor_email="{name}@example.invalid", details={{"n": n}})
"""
COUNT = """
from audit.models import Event
mine = Event.objects.filter(actor__in={emails!r})
print(mine.count(), mine.values("seq").distinct().count())
"""


def test_two_writers_form_one_chain(production_stack: Stack) -> None:
    names = ("writer-a", "writer-b")
    before = production_stack.manage("audit", "head").splitlines()[-1]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(names))

    def write(name: str) -> None:
        barrier.wait()
        try:
            production_stack.manage("shell", "-c", WRITE.format(count=PER_PROCESS, name=name))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    total, distinct = (
        production_stack.manage(
            "shell", "-c", COUNT.format(emails=[f"{name}@example.invalid" for name in names])
        )
        .splitlines()[-1]
        .split()
    )
    assert int(total) == int(distinct) == 2 * PER_PROCESS
    head_seq = int(production_stack.manage("audit", "head").splitlines()[-1].split(":")[0])
    assert head_seq >= int(before.split(":")[0]) + 2 * PER_PROCESS
    verified = production_stack.manage("audit", "verify")
    assert "chained" in verified and "refuses edits (trigger)" in verified, verified
