"""Write the known-answer vectors in ``crypto/vectors`` deterministically.

Run as ``python -m crypto.make_vectors``. Randomness comes from fixed labels (BLAKE2b in
counter mode, see ``crypto/_vectorgen/rng.py``), so running it again reproduces every file
byte for byte; a test checks that. ``--check`` compares instead of writing and exits 1 on
any difference.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ._vectorgen import conversation, keys, message, misc, order, pins, succession
from ._vectorgen.attachment import attachment_file
from ._vectorgen.disclosure import disclosure_file
from ._vectorgen.export import export_file

__all__ = ["VECTOR_DIR", "generate_all", "main"]

VECTOR_DIR = Path(__file__).resolve().parent / "vectors"

GENERATORS: dict[str, Callable[[], str]] = {
    "identity.json": keys.identity_file,
    "kdf.json": keys.kdf_file,
    "bundle.json": keys.bundle_file,
    "recovery.json": keys.recovery_file,
    "envelope.json": conversation.envelope_file,
    "rotation.json": conversation.rotation_file,
    "message.json": message.message_file,
    "padding.json": message.padding_file,
    "order.json": order.order_file,
    "pins.json": pins.pins_file,
    "safety.json": misc.safety_file,
    "invitation.json": misc.invitation_file,
    "succession.json": succession.succession_file,
    "encoding.json": misc.encoding_file,
    "disclosure.json": disclosure_file,
    "export.json": export_file,
    "attachment.json": attachment_file,
}


def generate_all() -> dict[str, str]:
    """File name to file text, for every vector file."""
    return {name: generate() for name, generate in GENERATORS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crypto.make_vectors", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    differing = []
    for name, text in generate_all().items():
        path = VECTOR_DIR / name
        if args.check:
            if not path.exists() or path.read_text(encoding="ascii") != text:
                differing.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii", newline="\n")
        print(f"wrote {path}")
    if differing:
        print("out of date: " + ", ".join(differing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
