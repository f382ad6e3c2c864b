"""Exports made and checked on this computer (crypto/SPEC.md, "Exports").

:meth:`ConfideClient.export_conversation <confide_client.ConfideClient.export_conversation>`
writes a conversation's messages, opened here, as one printable HTML file with a signed
list of every message; :func:`verify_export_file` checks such a file, made here or in a
browser, against the identities this computer trusts: those given, and the peers' identities
kept in the state folder. The file holds the messages' text: it is written readable by its
owner only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import crypto
from confide_client.state import StateFolder
from crypto import PublicIdentity, VerifiedExport

__all__ = ["trusted_in", "verify_export_file", "write_export"]


def write_export(path: Path, data: bytes) -> None:
    """Writes an export to ``path``, mode 0600 (it holds the conversation in plaintext);
    an existing file is replaced."""
    target = Path(path)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.chmod(target, 0o600)


def trusted_in(state: StateFolder | None) -> list[PublicIdentity]:
    """Every peer identity the state folder's ``seen-identities.json`` keeps, for any
    server and account: the people this computer has written with."""
    return [] if state is None else state.seen_identities.every()


def verify_export_file(
    path: Path,
    *,
    trusted: Iterable[PublicIdentity] = (),
    fingerprints: Iterable[bytes] = (),
    safety_numbers: Iterable[str] = (),
    state: StateFolder | None = None,
) -> VerifiedExport:
    """Checks the export at ``path`` (:func:`crypto.verify_export`): its signer must be
    among ``trusted``, the peers kept in ``state``, ``fingerprints``, or the members whose
    safety number is among ``safety_numbers``. Raises :class:`crypto.CryptoError` (its
    message says what failed, naming each message changed, missing or added) or
    :class:`OSError` for a file that cannot be read."""
    data = Path(path).read_bytes()
    return crypto.verify_export(
        data,
        trusted=[*trusted, *trusted_in(state)],
        fingerprints=fingerprints,
        safety_numbers=safety_numbers,
    )
