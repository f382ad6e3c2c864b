"""The data directory is resolved from where the command runs (never inside the installed
package), made 0700, and everything the portal writes in it is 0600 whatever the umask it
was started with: the SQLite file and its write-ahead log, the secret key, the push key,
mail. The system check says when the directory or a file is open to others."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIDE = [sys.executable, "-m", "portal.cli"]


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """``confide <args>`` in ``cwd`` on the embedded default, started with umask 022."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CONFIDE_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"))
    }
    base["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [*CONFIDE, *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_embedded_files_are_made_private_where_the_command_runs(tmp_path: Path) -> None:
    run(tmp_path, "migrate", "--noinput")
    data = tmp_path / "var"
    assert mode(data) == 0o700
    assert mode(data / "confide.sqlite3") == 0o600
    assert mode(data / "secret_key") == 0o600

    # The write-ahead log while a connection holds it open, the push key, and mail.
    probe = (
        "import os, stat\n"
        "from django.db import connection\n"
        "from django.core.mail import send_mail\n"
        "from messaging.vapid import server_key\n"
        "server_key()\n"
        "send_mail('s', 'b', 'a@example.invalid', ['b@example.invalid'])\n"
        "with connection.cursor() as c:\n"
        "    c.execute('CREATE TABLE probe (x)')\n"
        "    print(oct(stat.S_IMODE(os.stat('var/confide.sqlite3-wal').st_mode)))\n"
    )
    assert "0o600" in run(tmp_path, "shell", "-c", probe)
    assert mode(data / "vapid_private_key") == 0o600
    (mail,) = (data / "mail").iterdir()
    assert mode(data / "mail") == 0o700
    assert mode(mail) == 0o600
    assert "confide.W001" not in run(tmp_path, "check")


def test_collectstatic_writes_under_the_working_directory(tmp_path: Path) -> None:
    run(tmp_path, "collectstatic", "--noinput")
    assert (tmp_path / "var" / "static" / "frontend").is_dir()
    assert not (REPO / "portal" / "var").exists()


def test_the_check_says_when_others_can_read_the_data(tmp_path: Path) -> None:
    data = tmp_path / "shared"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "secret_key").write_text("k" * 64)
    (data / "secret_key").chmod(0o644)
    out = run(tmp_path, "check", env={"CONFIDE_DATA_DIR": str(data)})
    assert f"{data} has mode 0755" in out
    assert f"{data / 'secret_key'} has mode 0644" in out
    assert "confide.W001" in out
