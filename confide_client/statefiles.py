"""Reading and writing the client's state files: whole, private, and never half-written.

A state file is written to a temporary file in its own folder (``mkstemp`` makes it with
mode 0600), flushed and fsynced, then renamed over the old one, so that a crash or Ctrl-C
at any moment leaves either the old file or the new one, never a mix. The folders it makes
(the state folder and those above it that are missing) get mode 0700. A file that cannot
be written raises :class:`StateFileError` naming it; one that cannot be read, or is not a
JSON object of the expected format, raises the error its owner makes (``damaged``).

What the folder holds is not secret, but it is trusted: the seen identities are what a
changed key is compared with, so another user who could rewrite them could hide a key
swapped by the server. A folder or file that is not the user's own, or that others may
write to (group or world writable), is refused (:func:`check_private`), whether found at
its place or through a symbolic link.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confide_client.errors import StateFileError

__all__ = ["check_private", "read_state", "write_private"]


def write_private(path: Path, text: str, what: str) -> None:
    """Replaces ``path`` with ``text`` atomically (``what`` names the file in errors)."""
    try:
        _make_folders(path.parent)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    except OSError as exc:
        raise StateFileError(
            f"The {what} {path} cannot be written: {exc.strerror}", path=str(path)
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        # The rename is durable only once the folder's entry is on disk too.
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise StateFileError(
            f"The {what} {path} cannot be written: {exc.strerror}", path=str(path)
        ) from None


def check_private(path: Path, what: str) -> None:
    """Refuses a folder or file, if it exists, that is not the user's or that others may
    write to (``StateFileError``); nothing to check where there are no user ids."""
    if not hasattr(os, "getuid"):
        return
    try:
        found = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StateFileError(
            f"The {what} {path} cannot be read: {exc.strerror}", path=str(path)
        ) from None
    owner, mode = found.st_uid, stat.S_IMODE(found.st_mode)
    if owner != os.getuid():
        raise StateFileError(
            f"The {what} {path} belongs to another user (uid {owner}); use a folder of your"
            " own (--state).",
            path=str(path),
        )
    if mode & 0o022:
        raise StateFileError(
            f"The {what} {path} can be changed by other users (mode {mode:04o}); make it"
            f" yours alone (chmod go-w {path}) or use another folder (--state).",
            path=str(path),
        )


def read_state(
    path: Path, expected_format: int, damaged: Callable[[str], StateFileError]
) -> dict[str, Any]:
    """The JSON object in ``path``, of format ``expected_format``; ``damaged(what)`` makes
    the error raised when it is not."""
    check_private(path, "state file")
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise damaged(f"cannot be read as JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise damaged(f"is not in format {expected_format}")
    return data


def _make_folders(folder: Path) -> None:
    """``mkdir -p`` with mode 0700 for every folder made (``Path.mkdir`` gives the parents
    it makes the default mode)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)
