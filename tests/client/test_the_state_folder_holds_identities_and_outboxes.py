"""The state folder is ``$XDG_STATE_HOME/confide`` (``~/.local/state/confide`` without it),
holds the seen identities and one outbox file per server and account, and is what a
client given ``state=`` keeps them in; a damaged identity file stops it before anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from confide_client import ConfideClient, IdentityFile, SeenIdentities
from confide_client.errors import StateFileError
from confide_client.identities import default_identity_file
from confide_client.state import StateFolder, default_state_folder


def test_the_default_follows_xdg_state_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert StateFolder().path == tmp_path / "xdg" / "confide"
    assert StateFolder().seen_identities.path == default_identity_file()
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_folder() == tmp_path / "home" / ".local" / "state" / "confide"


def test_nothing_is_written_until_there_is_something_to_keep(tmp_path: Path) -> None:
    folder = StateFolder(tmp_path / "state")
    folder.outbox_file("http://127.0.0.1:8000", 5).save([])
    assert not (tmp_path / "state").exists()


async def test_a_client_keeps_the_peers_identities_in_the_folder(tmp_path: Path) -> None:
    folder = StateFolder(tmp_path)
    client = ConfideClient("http://127.0.0.1:8000", state=folder)
    assert client._seen_identities is folder.seen_identities
    assert isinstance(folder.seen_identities, IdentityFile)
    await client.close()


async def test_a_state_folder_and_seen_identities_do_not_go_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        ConfideClient(
            "http://127.0.0.1:8000", state=StateFolder(tmp_path), seen_identities=SeenIdentities()
        )


def test_a_damaged_identity_file_stops_the_folder_at_once(tmp_path: Path) -> None:
    (tmp_path / "seen-identities.json").write_text("{damaged")
    with pytest.raises(StateFileError, match="seen-identities.json"):
        StateFolder(tmp_path)
