"""The public identities a client has seen for its peers (trust on first use).

A server could substitute a peer's public key; the person can notice only if the client
remembers what it saw before and warns when it differs (``PeerKeyChanged``). Each signed-in
account on each server keeps its own record (``scope``), as the browser keeps one per
origin. :class:`SeenIdentities` holds them for one run; :class:`IdentityFile` keeps them
in a file, so that a key changed while the client was not running is noticed at its next
start. Only public data is stored: user ids and public identities, never a secret.

The file is JSON, written whole to a temporary file and renamed over the old one, with
mode 0600 in a directory made with mode 0700::

    {"format": 1, "accounts": {"<server origin> <user id>": {"<peer id>": "<b64 identity>"}},
     "pins": {"<server origin> <user id>": <highest pin record counter seen>}}

The highest counter lets a client notice a pin record the server rolled back to an older
one between two runs (``ConfideClient.pins_rolled_back``); a file without ``pins`` (written
before they were kept) reads as none seen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from confide_client.errors import StateFileError
from confide_client.statefiles import read_state, write_private
from crypto import CryptoError, PublicIdentity, b64decode, b64encode

__all__ = ["IdentityFile", "SeenIdentities", "default_identity_file"]

FORMAT = 1


def default_identity_file() -> Path:
    """Where the chat keeps the identities it has seen: ``$XDG_STATE_HOME/confide`` (or
    ``~/.local/state/confide``) ``/seen-identities.json``."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "confide" / "seen-identities.json"


class SeenIdentities:
    """The peers' identities seen so far, in memory, per ``scope`` (server and account),
    and the highest counter of the person's pin record seen (crypto/SPEC.md, "Pins")."""

    def __init__(self) -> None:
        self._accounts: dict[str, dict[int, PublicIdentity]] = {}
        self._pins: dict[str, int] = {}

    def pins_counter(self, scope: str) -> int:
        """The highest counter of the scope's pin record seen here (0: none)."""
        return self._pins.get(scope, 0)

    def saw_pins(self, scope: str, counter: int) -> None:
        """Remembers a pin record's counter, if higher than any seen before."""
        if counter > self._pins.get(scope, 0):
            self._pins[scope] = counter
            self._changed()

    def seen(self, scope: str, user_id: int) -> PublicIdentity | None:
        return self._accounts.get(scope, {}).get(user_id)

    def every(self) -> list[PublicIdentity]:
        """Every identity seen, for any scope: the people written with from here."""
        return [identity for peers in self._accounts.values() for identity in peers.values()]

    def remember(self, scope: str, user_id: int, identity: PublicIdentity) -> None:
        """Keeps ``identity`` as the one seen for ``user_id``, unless it is an older form of
        the keys seen (version 1, or a later ``since``, of the same keys: see
        :meth:`newer_form`)."""
        known = self._accounts.setdefault(scope, {})
        if known.get(user_id) != identity and self.newer_form(scope, user_id, identity) is None:
            known[user_id] = identity
            self._changed()

    def newer_form(
        self, scope: str, user_id: int, identity: PublicIdentity
    ) -> PublicIdentity | None:
        """The form of ``identity``'s own keys seen before, when it holds an X-Wing key from
        earlier than ``identity`` does (``identity`` of version 1, or with a later
        ``since``): a server serving the older form would have keys wrapped without X-Wing
        (crypto/SPEC.md, "Version 3: wrapped with X-Wing"). None otherwise."""
        seen = self.seen(scope, user_id)
        if (
            seen is None
            or seen.since is None
            or seen.sign_key != identity.sign_key
            or seen.enc_key != identity.enc_key
        ):
            return None
        if identity.since is not None and identity.since <= seen.since:
            return None
        return seen

    def _changed(self) -> None:
        """Called after each change; a store that persists writes here."""


class IdentityFile(SeenIdentities):
    """:class:`SeenIdentities` kept in ``path``.

    A file that cannot be read as this format raises :class:`StateFileError` naming it,
    and is left untouched, so a damaged record is never silently replaced by an empty one
    (which would make every peer look new, and hide a changed key).
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        if path.exists():
            self._accounts, self._pins = self._read()

    def __repr__(self) -> str:
        return f"IdentityFile({str(self.path)!r})"

    def _read(self) -> tuple[dict[str, dict[int, PublicIdentity]], dict[str, int]]:
        data = read_state(self.path, FORMAT, self._damaged)
        pins = data.get("pins", {})
        if not isinstance(pins, dict) or not all(
            isinstance(counter, int) and not isinstance(counter, bool) and counter >= 0
            for counter in pins.values()
        ):
            raise self._damaged("has pin record counters that are not counts")
        accounts = data.get("accounts")
        if not isinstance(accounts, dict):
            raise self._damaged("has no accounts object")
        loaded: dict[str, dict[int, PublicIdentity]] = {}
        for scope, peers in accounts.items():
            if not isinstance(peers, dict):
                raise self._damaged(f"has a record for {scope!r} that is not an object")
            loaded[scope] = {}
            for user_id, identity in peers.items():
                if not (isinstance(user_id, str) and user_id.isdigit()):
                    raise self._damaged(f"has a user id that is not a number: {user_id!r}")
                try:
                    loaded[scope][int(user_id)] = PublicIdentity.from_bytes(b64decode(identity))
                except CryptoError:
                    raise self._damaged(f"has an invalid identity for user {user_id}") from None
        return loaded, dict(pins)

    def _damaged(self, what: str) -> StateFileError:
        return StateFileError(
            f"The identity file {self.path} {what}; move it aside to start a new record "
            "(peers' keys will then be trusted as new).",
            path=str(self.path),
        )

    def _changed(self) -> None:
        data = {
            "format": FORMAT,
            "accounts": {
                scope: {
                    str(user_id): b64encode(identity.to_bytes())
                    for user_id, identity in sorted(peers.items())
                }
                for scope, peers in sorted(self._accounts.items())
            },
            "pins": dict(sorted(self._pins.items())),
        }
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        write_private(self.path, text, "identity file")
