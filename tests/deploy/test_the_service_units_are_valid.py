"""The shipped systemd units are valid as systemd reads them (``systemd-analyze verify``:
known keys, an executable command), run the portal as its own user with a private umask and
data directory, and the shipped settings file names only settings the portal reads, reads
the same in systemd and in a shell, and passes the deployment check."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_programs

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
INSTALLED = "/opt/confide/.venv/bin/confide"
CONFIDE = Path(sys.executable).with_name("confide")
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def _units_here(tmp_path: Path) -> list[Path]:
    """The units as installed, but for the command: this checkout's."""
    made = []
    for unit in sorted(UNITS.glob("confide*.service")) + sorted(UNITS.glob("*.timer")):
        name = "confide@8001.service" if unit.name == "confide@.service" else unit.name
        text = unit.read_text(encoding="utf-8").replace(INSTALLED, str(CONFIDE))
        (tmp_path / name).write_text(text, encoding="utf-8")
        made.append(tmp_path / name)
    return made


def test_systemd_verifies_the_units(tmp_path: Path) -> None:
    require_programs([] if shutil.which("systemd-analyze") else ["systemd-analyze"])
    units = _units_here(tmp_path)
    assert {u.name for u in units} == {
        "confide@8001.service",
        "confide-backup.service",
        "confide-backup.timer",
    }
    result = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # An unknown key, a bad value or a missing command is reported on stderr.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_systemd_would_refuse_a_unit_with_a_mistake(tmp_path: Path) -> None:
    require_programs([] if shutil.which("systemd-analyze") else ["systemd-analyze"])
    (unit,) = [u for u in _units_here(tmp_path) if u.name == "confide@8001.service"]
    unit.write_text(unit.read_text().replace("UMask=0077", "UMask=0077\nUmask=0077"))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Unknown key" in result.stderr


def test_the_server_unit_runs_as_its_own_user_privately() -> None:
    text = (UNITS / "confide@.service").read_text()
    for line in (
        "User=confide",
        "UMask=0077",
        "StateDirectoryMode=0700",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "Restart=on-failure",
        "ExecStart=/usr/bin/env CONFIDE_HOST=127.0.0.1 CONFIDE_PORT=%i"
        f" CONFIDE_SERVER_PROCESSES=1 {INSTALLED} serve",
        "EnvironmentFile=/etc/confide/confide.env",
    ):
        assert line in text.splitlines(), line


def _settings_file() -> dict[str, str]:
    """confide.env as systemd reads it: NAME=value, double quotes around a value removed."""
    found = {}
    for line in (UNITS / "confide.env").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        matched = ASSIGNMENT.match(line)
        assert matched, f"not NAME=value: {line!r}"
        name, value = matched.groups()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        found[name] = value
    return found


def _read_settings() -> set[str]:
    """Every variable portal/settings.py reads (``NAME`` and, for env_str, ``NAME_FILE``)."""
    source = (REPO / "portal" / "settings.py").read_text()
    names = set(re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', source))
    return names | {f"{name}_FILE" for name in names}


def test_the_settings_file_names_only_settings_the_portal_reads() -> None:
    settings = _settings_file()
    unknown = set(settings) - _read_settings()
    assert not unknown, f"settings the portal does not read: {sorted(unknown)}"
    assert settings["CONFIDE_BEHIND_TLS_PROXY"] == "true"
    assert "SECRET_KEY" not in settings  # a file, never the value itself
    assert settings["SECRET_KEY_FILE"].startswith("/etc/confide/")


def test_a_shell_reads_the_settings_file_as_systemd_does() -> None:
    shown = subprocess.run(
        ["sh", "-c", f'set -a; . "{UNITS / "confide.env"}"; set +a; env'],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    seen = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    for name, value in _settings_file().items():
        assert seen.get(name) == value, name


def test_the_deployment_check_passes_with_the_shipped_settings(tmp_path: Path) -> None:
    settings = _settings_file()
    secret = tmp_path / "secret_key"
    secret.write_text(secrets.token_urlsafe(64))
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    settings.update(
        SECRET_KEY_FILE=str(secret),
        CONFIDE_DATA_DIR=str(data),
        # Files this test has not made: the check reads none of them.
        CONFIDE_SMTP_PASSWORD_FILE="",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFIDE_", "SECRET_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update({k: v for k, v in settings.items() if v})
    result = subprocess.run(
        [str(CONFIDE), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
