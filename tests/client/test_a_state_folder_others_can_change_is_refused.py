"""The seen identities are what a changed key is compared with, so the state folder is
trusted: one that belongs to another user, or that others may write to (directly, through
a symbolic link, or in its outbox folder or files), is refused before anything is read,
and the chat stops with exit status 5 naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from confide_client.errors import StateFileError
from confide_client.state import StateFolder

OTHER_USER = 65534  # nobody


def private(path: Path) -> Path:
    path.mkdir(mode=0o700)
    return path


def test_a_folder_of_ones_own_is_used(tmp_path: Path) -> None:
    folder = private(tmp_path / "state")
    private(folder / "outbox")
    StateFolder(folder).outbox_file("https://portal.example.org", 3).save([])


def test_a_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    folder = private(tmp_path / "state")
    folder.chmod(0o777)
    with pytest.raises(StateFileError, match=r"can be changed by other users \(mode 0777\)"):
        StateFolder(folder)
    folder.chmod(0o770)
    with pytest.raises(StateFileError, match="chmod go-w"):
        StateFolder(folder)


def test_a_link_to_a_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    shared = private(tmp_path / "shared")
    shared.chmod(0o1777)
    (tmp_path / "state").symlink_to(shared)
    with pytest.raises(StateFileError, match="can be changed by other users"):
        StateFolder(tmp_path / "state")


def test_an_outbox_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    folder = private(tmp_path / "state")
    private(folder / "outbox").chmod(0o757)
    with pytest.raises(StateFileError, match="outbox folder"):
        StateFolder(folder)


def test_a_seen_identities_file_others_may_write_to_is_refused(tmp_path: Path) -> None:
    folder = private(tmp_path / "state")
    seen = folder / "seen-identities.json"
    seen.write_text(json.dumps({"format": 1, "accounts": {}}))
    seen.chmod(0o666)
    with pytest.raises(StateFileError, match="state file"):
        StateFolder(folder)


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    folder = private(tmp_path / "state")
    os.chown(folder, OTHER_USER, -1)
    with pytest.raises(StateFileError, match=f"belongs to another user \\(uid {OTHER_USER}\\)"):
        StateFolder(folder)


def test_the_chat_stops_with_status_5_naming_the_folder(tmp_path: Path) -> None:
    folder = private(tmp_path / "state")
    folder.chmod(0o777)
    ended = subprocess.run(
        [sys.executable, "-m", "confide_client.cli", "--email", "a@example.invalid"]
        + ["--state", str(folder)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert ended.returncode == 5
    assert f"The state folder {folder} can be changed by other users" in ended.stderr
