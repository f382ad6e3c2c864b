"""The server's VAPID key: the embedded default makes it once into its data directory,
readable by the server's user only, and reads the same one back; production takes it from
the environment and refuses a malformed one; the private half is in no repr."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging import vapid


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    vapid._cached.clear()
    yield
    vapid._cached.clear()


def test_the_embedded_default_makes_one_key_mode_0600_and_keeps_it(
    settings: Any, tmp_path: Path
) -> None:
    settings.CONFIDE_VAPID_PRIVATE_KEY = ""
    settings.PRODUCTION = False
    settings.DATA_DIR = tmp_path

    first = vapid.server_key()
    vapid._cached.clear()
    again = vapid.server_key()

    path = tmp_path / vapid.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first is not None and first == again
    assert list(tmp_path.iterdir()) == [path], "no temporary file left behind"


def test_production_takes_the_environments_key_or_has_none(settings: Any) -> None:
    key = vapid.generate_private_key()
    settings.PRODUCTION = True
    settings.CONFIDE_VAPID_PRIVATE_KEY = key
    found = vapid.server_key()
    assert found is not None and found.private_raw == key

    vapid._cached.clear()
    settings.CONFIDE_VAPID_PRIVATE_KEY = ""
    assert vapid.server_key() is None


@pytest.mark.parametrize(
    ("key", "reason"),
    [("not base64!", "base64url"), ("AAAA", "32 bytes"), ("A" * 43, "P-256"), ("_" * 43, "P-256")],
)
def test_a_malformed_key_stops_start_up_without_showing_it(
    settings: Any, key: str, reason: str
) -> None:
    settings.CONFIDE_VAPID_PRIVATE_KEY = key

    with pytest.raises(ImproperlyConfigured, match=reason) as raised:
        vapid.server_key()

    assert key not in str(raised.value)


def test_the_private_key_is_in_no_repr() -> None:
    key = vapid.VapidKey.from_private_raw(vapid.generate_private_key())

    assert key.private_raw not in repr(key)
    assert key.private_raw not in str(key)
    assert key.public in repr(key)
    assert len(vapid.b64url_decode(key.public)) == 65


def test_a_server_with_a_malformed_key_does_not_start(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    key = "definitely-not-a-key"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"CONFIDE_DATA_DIR": str(tmp_path), "CONFIDE_VAPID_PRIVATE_KEY": key}

    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "CONFIDE_VAPID_PRIVATE_KEY: the VAPID private key" in result.stderr
    assert key not in result.stderr + result.stdout
