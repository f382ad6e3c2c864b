"""System checks of the deployment (``confide check``, and ``check --deploy``)."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

# What the data directory may hold that no one else may read.
PRIVATE_FILES = (
    "confide.sqlite3",
    "confide.sqlite3-wal",
    "confide.sqlite3-shm",
    "secret_key",
    "vapid_private_key",
    "demo-credentials.txt",
)


@register(Tags.security)
def data_directory_is_private(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """confide.W001: the data directory, or a file in it, is open to other users."""
    data_dir = Path(settings.DATA_DIR)
    found: list[CheckMessage] = []
    paths = [data_dir, *(data_dir / name for name in PRIVATE_FILES), data_dir / "mail"]
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            wanted = 0o700 if path.is_dir() else 0o600
            found.append(
                Warning(
                    f"{path} has mode {mode:04o}: other users of this machine can reach it.",
                    hint=f"chmod {wanted:04o} {path} (and run the portal as its own user).",
                    id="confide.W001",
                )
            )
    return found
