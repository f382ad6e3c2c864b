"""Settings helpers that read the environment and refuse bad values.

Each helper raises ``ImproperlyConfigured`` with the variable's name on a value it
cannot read, so a typo stops start-up instead of silently choosing a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    """The variable's value, or its ``NAME_FILE`` file's contents, or the default."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Accepts exactly ``true`` or ``false`` (any case); anything else is an error."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number within ``[minimum, maximum]``."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise ImproperlyConfigured(f"{name} must be at least {minimum}{upper}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """A number of at least ``minimum`` (seconds, usually)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if not value >= minimum:  # also refuses NaN
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def private_directory(path: Path) -> Path:
    """``path``, made with mode 0700 when missing; refused unless it is this user's own
    directory that nobody else may write in (the system check also says when others can
    read it)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"The data directory {path} cannot be made ({exc.strerror}): run from a directory "
            "this user can write, or set CONFIDE_DATA_DIR."
        ) from exc
    # Someone else's, or one others may write in, could hold a secret key they planted.
    found = path.lstat()
    if path.is_symlink() or found.st_uid != os.geteuid() or found.st_mode & 0o022:
        raise ImproperlyConfigured(
            f"The data directory {path} is not this user's alone (a link, another owner, or "
            "writable by others): use a directory of this user's, mode 0700."
        )
    return path


def private_file(path: Path) -> Path:
    """``path``, made empty with mode 0600 when missing, so that whatever writes it next
    (SQLite) keeps it private whatever the process's umask."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.is_symlink():
            raise ImproperlyConfigured(
                f"{path} is a link: the portal opens only its own file."
            ) from None
    return path


def persistent_secret_key(path: Path) -> str:
    """The embedded default's secret key: made once, kept in ``path`` (mode 0600).

    Production must supply SECRET_KEY; this exists so that a one-machine install
    has a real, unique key without anyone choosing one.
    """
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 50:
            return key
        raise ImproperlyConfigured(f"The secret key in {path} is too short; delete the file.")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
