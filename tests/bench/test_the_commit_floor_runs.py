"""bench/commit_floor.py still runs the server's own writer: a few batches of one real
sealed message each, every one stored, with the statements it reports. (The figures are
the benchmark's report, never asserted here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def test_the_commit_floor_stores_each_batch_and_reports_it() -> None:
    database = require_service("DATABASE_URL", "PostgreSQL")
    result = subprocess.run(
        [sys.executable, "bench/commit_floor.py", "--messages=6", "--gap-ms=0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["messages"] == report["stored"] == 6
    assert 0 < report["batch_wall_ms"]["p50"] <= report["batch_wall_ms"]["p90"]
    assert 0 < report["writer_cpu_ms"]["p50"]
    # The batch's lock of the conversation and its message-id lookup, timed apiece.
    assert set(report["statements_p50_ms"]) == {"SELECT c.id,", "SELECT id"}
    assert report["select_1_ms"]["p50"] > 0
