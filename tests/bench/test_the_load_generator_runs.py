"""The benchmark still runs against the server as it is: a few seconds of bench/loadgen.py
on PostgreSQL and Redis, with every message acknowledged, delivered once and stored. (Speed
is the benchmark's own report, never asserted here; this only keeps it from rotting as the
server changes, as it did when staff sockets began to need a second factor and envelopes a
signed start.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_load_is_acknowledged_delivered_and_stored(tmp_path: Path) -> None:
    database = require_service("DATABASE_URL", "PostgreSQL")
    redis = require_service("REDIS_URL", "Redis")
    result = subprocess.run(
        [
            sys.executable,
            "bench/loadgen.py",
            "--only=confide",
            "--pairs=2",
            "--idle-sockets=20",
            "--restart-sockets=20",
            "--overload-seconds=0",
            "--step-seconds=1",
            "--half-seconds=1",
            "--drain-seconds=2",
            "--start-rate=10",
            "--max-rate=15",
            # A little history first (bench/prefill.py): the load lands on top of it.
            "--prefill=3000",
            "--prefill-conversations=20",
            f"--out={tmp_path}",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database, "REDIS_URL": redis},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (report_file,) = tmp_path.glob("*.json")
    report = json.loads(report_file.read_text())
    steps = report["confide"]["steps"]
    assert steps and all(step["acked"] > 0 for step in steps)
    for step in [*steps, report["confide"]["half_load"]]:
        counts = (step["missing_deliveries"], step["duplicate_deliveries"], step["unanswered"])
        assert counts == (0, 0, 0), step
    # The whole machine's busy cores, beside the server's and the generator's own.
    half = report["confide"]["half_load"]
    assert half["machine_busy_cores"] >= half["server_cpu_per_s"] > 0
    assert report["prefill"]["messages"] == 3000
    assert report["prefill"]["conversations"] == 20
    # The database holds exactly what was acknowledged, beside the history.
    assert report["rows_stored"] == report["acked_total"] > 0
    # The connect phase and the restart under open sockets: every client came back.
    assert report["idle_sockets"]["sockets"] == 20
    assert report["idle_sockets"]["server_cpu_ms_per_connect"] > 0
    assert (report["restart"]["sockets"], report["restart"]["lost"]) == (20, 0)
    assert sum(report["restart"]["attempts"].values()) == 20
