"""bench/commit_floor.py still runs the server's own writer: a few batches of real sealed
messages (one a batch, as at a light load, and three), every one stored, with the
statements it reports. (The figures are the benchmark's report, never asserted here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("batch", [1, 3])
def test_the_commit_floor_stores_each_batch_and_reports_it(batch: int) -> None:
    database = require_service("DATABASE_URL", "PostgreSQL")
    result = subprocess.run(
        [sys.executable, "bench/commit_floor.py", "--messages=6", "--gap-ms=0", f"--batch={batch}"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["messages"], report["batch"]) == (6, batch)
    assert report["stored"] == 6
    assert 0 < report["batch_wall_ms"]["p50"] <= report["batch_wall_ms"]["p90"]
    assert 0 < report["writer_cpu_ms"]["p50"]
    # Each statement of a batch, timed apiece (docs/performance.md): the conversation's
    # lock with its members, the message-id lookup, and the insert with ``last_seq``.
    assert set(report["statements_p50_ms"]) == {
        'SELECT c.id, … FROM "messaging_conversation"',
        'SELECT id … FROM "messaging_message"',
        "WITH new … FROM unnest",
    }
    assert all(median > 0 for median in report["statements_p50_ms"].values())
    assert report["select_1_ms"]["p50"] > 0
