"""`confide --help` names serve and every command of the portal's own, each with a line on
what it does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OWN = sorted(
    path.stem
    for app in ("accounts", "messaging", "frontend", "portal")
    for path in (REPO / app / "management" / "commands").glob("*.py")
    if not path.stem.startswith("_")
)


@pytest.mark.parametrize("asked", ["--help", "-h", "help", ""])
def test_help_lists_serve_and_the_portals_commands(asked: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
    env["CONFIDE_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", *([asked] if asked else [])],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    listed = {
        line.split()[0]: line.split(None, 1)[1]
        for line in result.stdout.splitlines()
        if line.startswith("  ") and not line.startswith("   ") and len(line.split()) > 1
    }
    assert len(OWN) >= 7
    for name in ["serve", "migrate", "check", *OWN]:
        assert name in listed, f"{name} is missing from:\n{result.stdout}"
        assert len(listed[name]) > 20, listed[name]
