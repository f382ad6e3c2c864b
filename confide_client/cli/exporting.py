"""Exports from the command line (crypto/SPEC.md, "Exports").

In the chat, ``/export FILE`` writes the current conversation to FILE. On its own,
``confide-chat verify-export FILE`` checks an export made here or in a browser, without
signing in: its signer must be a peer kept in the state folder, or given with
``--fingerprint`` or ``--safety-number``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from confide_client.cli.text import printable
from confide_client.errors import StateFileError
from confide_client.exports import verify_export_file
from confide_client.state import StateFolder, default_state_folder
from crypto import CryptoError, b64decode

__all__ = ["VERIFY_EXIT", "export_line", "verify_export_main", "verify_parser"]

# What verify-export's exit status means.
VERIFY_EXIT = {
    0: "the export is intact and signed by someone you trust",
    2: "wrong use of the command line",
    5: "the state folder cannot be read or written, or others may change it",
    6: "the export was changed, is not an export, or its signer is not one you trust",
    66: "the file cannot be read",
}


def export_line(count: int, path: Path) -> str:
    """What the chat says once an export is written."""
    what = "1 message" if count == 1 else f"{count} messages"
    return (
        f"Exported {what} to {path} (readable by you only: it holds the conversation"
        " in plain text). Anyone can check it with: confide-chat verify-export FILE"
    )


def verify_parser() -> argparse.ArgumentParser:
    epilog = "exit status:\n" + "\n".join(
        f"  {code:>3}  {text}" for code, text in VERIFY_EXIT.items()
    )
    made = argparse.ArgumentParser(
        prog="confide-chat verify-export",
        description="Check an export of a conversation: that no message was changed, removed"
        " or added, and that it was signed by someone you trust.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.add_argument("file", type=Path, help="the export (an .html file)")
    made.add_argument(
        "--fingerprint",
        action="append",
        default=[],
        metavar="B64",
        help="trust the identity with this fingerprint (base64url, 43 characters); repeatable",
    )
    made.add_argument(
        "--safety-number",
        action="append",
        default=[],
        metavar="DIGITS",
        help="trust the two members whose safety number this is (60 digits, spaces allowed;"
        " quote it); repeatable",
    )
    made.add_argument(
        "--state",
        type=Path,
        default=default_state_folder(),
        help="the folder whose peers' identities are trusted (default: %(default)s)",
    )
    return made


def verify_export_main(argv: Sequence[str]) -> int:
    args = verify_parser().parse_args(list(argv))
    try:
        fingerprints = [b64decode(text) for text in args.fingerprint]
    except CryptoError as exc:
        _complain(f"! A fingerprint is not base64url: {exc}")
        return 2
    try:
        state = StateFolder(args.state) if args.state.exists() else None
        verified = verify_export_file(
            args.file,
            fingerprints=fingerprints,
            safety_numbers=args.safety_number,
            state=state,
        )
    except StateFileError as exc:
        _complain(f"! {exc.message} ({exc.code})")
        return 5
    except OSError as exc:
        _complain(f"! {args.file} cannot be read: {exc.strerror or exc}")
        return 66
    except CryptoError as exc:
        _complain(f"! Not verified: {exc}")
        return 6
    exporter = verified.client if verified.exporter == "client" else verified.therapist
    count = len(verified.messages)
    print(
        printable(
            f"Verified: {count} message{'s' if count != 1 else ''} between"
            f" {verified.client.name} and {verified.therapist.name}, exported by"
            f" {exporter.name} ({verified.exporter}); none changed, removed or added."
        ),
        flush=True,
    )
    return 0


def _complain(line: str) -> None:
    print(printable(line), file=sys.stderr, flush=True)
