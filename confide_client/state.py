"""The client's state folder: what it keeps between runs, none of it secret.

One folder (``$XDG_STATE_HOME/confide``, by default ``~/.local/state/confide``, mode 0700)
holds, for every server and account used from this machine::

    seen-identities.json                  the peers' public identities seen (identities.py)
    outbox/<server>-<user id>.json        the sealed messages not acknowledged yet

An outbox file keeps what the server would see of a message and nothing more: the
conversation, the client message id, the epoch and the ciphertext, and when it was queued.
No text and no key are ever written, so the folder reveals no more than the server holds;
the ciphertext opens only with the account's keys. It is written whole after every change
(``confide_client.statefiles``: temporary file, fsync, rename, mode 0600), so a crash, a
power cut or Ctrl-C leaves the old list or the new one. The next client that connects with
the same folder, server and account sends those messages again with the same id and the
same bytes; the server stores each once whatever happened before.

A file that cannot be read as this format raises :class:`StateFileError` naming it and is
left untouched: dropping it would silently lose the messages in it. The format::

    {"format": 1, "server": "https://portal.example.org", "account": 5,
     "messages": [{"conversation", "client_message_id", "epoch", "ciphertext" (base64url),
                   "queued_at" (ISO 8601)}]}
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from confide_client.errors import StateFileError
from confide_client.identities import IdentityFile
from confide_client.outbox import SealedMessage
from confide_client.statefiles import check_private, read_state, write_private
from crypto import CryptoError, b64decode, b64encode

__all__ = ["OutboxFile", "StateFolder", "default_state_folder"]

FORMAT = 1


def default_state_folder() -> Path:
    """``$XDG_STATE_HOME/confide``, or ``~/.local/state/confide`` when it is not set."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "confide"


class OutboxFile:
    """The sealed messages of one account on one server that wait for their ``ack``,
    kept in ``path`` (an ``OutboxStore`` of ``confide_client.outbox``).

    ``server`` and ``account`` are written into the file and checked when it is read, so
    a file is never sent to another server or as another account. Reading happens in the
    constructor: a damaged file raises :class:`StateFileError` there.
    """

    def __init__(self, path: Path, *, server: str, account: int) -> None:
        self.path = path
        self.server = server
        self.account = account
        self._messages = self._read() if path.exists() else []

    def __repr__(self) -> str:
        return f"OutboxFile({str(self.path)!r})"

    def load(self) -> list[SealedMessage]:
        """The messages kept, oldest first."""
        return list(self._messages)

    def save(self, messages: Sequence[SealedMessage]) -> None:
        """Replaces the file with ``messages`` (an empty list makes no new file)."""
        if not messages and not self.path.exists():
            self._messages = []
            return
        data = {
            "format": FORMAT,
            "server": self.server,
            "account": self.account,
            "messages": [
                {
                    "conversation": str(message.conversation),
                    "client_message_id": str(message.client_message_id),
                    "epoch": message.epoch,
                    "ciphertext": b64encode(message.ciphertext),
                    "queued_at": message.queued_at.isoformat(),
                }
                for message in messages
            ],
        }
        write_private(self.path, json.dumps(data, indent=1) + "\n", "outbox file")
        self._messages = list(messages)

    def _read(self) -> list[SealedMessage]:
        data = read_state(self.path, FORMAT, self._damaged)
        if data.get("server") != self.server or data.get("account") != self.account:
            raise self._damaged(f"belongs to another server or account than {self._scope}")
        items = data.get("messages")
        if not isinstance(items, list):
            raise self._damaged("has no list of messages")
        return [self._message(number, item) for number, item in enumerate(items, start=1)]

    def _message(self, number: int, item: Any) -> SealedMessage:
        try:
            epoch = item["epoch"]
            if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
                raise ValueError("epoch")
            queued_at = datetime.fromisoformat(item["queued_at"])
            if queued_at.tzinfo is None:
                raise ValueError("queued_at")
            return SealedMessage(
                conversation=uuid.UUID(item["conversation"]),
                client_message_id=uuid.UUID(item["client_message_id"]),
                epoch=epoch,
                ciphertext=b64decode(item["ciphertext"]),
                queued_at=queued_at,
            )
        except (KeyError, TypeError, ValueError, CryptoError):
            raise self._damaged(f"has a message (number {number}) it cannot read") from None

    @property
    def _scope(self) -> str:
        return f"{self.server} (user {self.account})"

    def _damaged(self, what: str) -> StateFileError:
        return StateFileError(
            f"The outbox file {self.path} {what}. It may hold messages not delivered yet; "
            "move it aside to start without them.",
            path=str(self.path),
        )


class StateFolder:
    """The folder of the seen identities and the outbox files (``path``, by default
    :func:`default_state_folder`).

    The seen-identities file is read here, so a damaged one raises
    :class:`StateFileError` before anything else happens; an outbox file is read when a
    client connects as its account (:meth:`outbox_file`).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_state_folder()
        check_private(self.path, "state folder")
        check_private(self.path / "outbox", "outbox folder")
        self.seen_identities = IdentityFile(self.path / "seen-identities.json")

    def __repr__(self) -> str:
        return f"StateFolder({str(self.path)!r})"

    def outbox_path(self, server: str, account: int) -> Path:
        """The outbox file of ``account`` on ``server`` (its origin, ``scheme://host:port``)."""
        name = re.sub(r"[^A-Za-z0-9.]+", "-", server).strip("-")
        return self.path / "outbox" / f"{name}-{account}.json"

    def outbox_file(self, server: str, account: int) -> OutboxFile:
        """The outbox of ``account`` on ``server``, read now."""
        return OutboxFile(self.outbox_path(server, account), server=server, account=account)
