"""What each crypto operation costs on this machine: median of several timed runs.

Run from the repository root::

    .venv/bin/python bench/crypto_costs.py [--runs 7]

Fast operations are timed in batches and reported per call; Argon2id is timed one call per
run. The numbers feed the cost discussion in crypto/SPEC.md (password derivation) and the
server's budget for verifying every message it accepts.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(operation: Callable[[], object], runs: int, batch: int) -> list[float]:
    """Seconds per call, one value per run, each run averaging ``batch`` calls."""
    operation()  # warm up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(batch):
            operation()
        samples.append((time.perf_counter() - start) / batch)
    return samples


def human(seconds: float) -> str:
    if seconds >= 0.01:
        return f"{seconds * 1000:.0f} ms"
    if seconds >= 0.001:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1_000_000:.0f} µs"


def main(argv: list[str] | None = None) -> int:
    import crypto

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per operation")
    args = parser.parse_args(argv)

    from crypto import _primitives

    # Version-2 identities (X-Wing keys), and the version-1 form of Theo's beside them.
    clara = crypto.IdentityKeyPair.generate()
    theo = crypto.IdentityKeyPair.generate()
    theo_v1 = crypto.IdentityKeyPair(theo._secret_material())
    conversation, message_id = uuid.uuid4(), uuid.uuid4()
    key = crypto.ConversationKey.generate()
    plaintext = bytes(1024)
    created_at = int(time.time() * 1000)
    wire = crypto.seal_message(plaintext, key, conversation, 0, clara, message_id)
    classical = crypto.wrap_conversation_key(
        key, conversation, 0, theo_v1.public, clara, created_at
    )
    envelope = crypto.wrap_conversation_key(key, conversation, 0, theo.public, clara, created_at)
    xwing_key = theo.public.xwing_key
    assert xwing_key is not None
    _, xwing_ct = _primitives.xwing_encapsulate(xwing_key)
    salt = crypto.new_salt()

    cases: list[tuple[str, Callable[[], object], int]] = [
        ("identity key generation (version 2)", crypto.IdentityKeyPair.generate, 200),
        ("X-Wing encapsulation", lambda: _primitives.xwing_encapsulate(xwing_key), 300),
        ("X-Wing decapsulation", lambda: theo._xwing_decapsulate(xwing_ct), 300),
        (
            "Argon2id, default params (3, 64 MiB)",
            lambda: crypto.derive_password_keys("correct horse", salt, crypto.DEFAULT_KDF_PARAMS),
            1,
        ),
        (
            "seal_message, 1 KiB",
            lambda: crypto.seal_message(plaintext, key, conversation, 0, clara, message_id),
            500,
        ),
        (
            "open_message, 1 KiB",
            lambda: crypto.open_message(wire, key, clara.public, conversation, 0, message_id),
            500,
        ),
        (
            "wrap, X25519 (version 2 envelope)",
            lambda: crypto.wrap_conversation_key(
                key, conversation, 0, theo_v1.public, clara, created_at
            ),
            300,
        ),
        (
            "unwrap, X25519 (version 2 envelope)",
            lambda: crypto.unwrap_conversation_key(
                classical, theo_v1, clara.public, conversation, 0
            ),
            300,
        ),
        (
            "wrap, X-Wing (version 3 envelope)",
            lambda: crypto.wrap_conversation_key(
                key, conversation, 0, theo.public, clara, created_at
            ),
            300,
        ),
        (
            "unwrap, X-Wing (version 3 envelope)",
            lambda: crypto.unwrap_conversation_key(envelope, theo, clara.public, conversation, 0),
            300,
        ),
        ("verify_message (server)", lambda: crypto.verify_message(wire, clara.public), 500),
        ("verify_envelope (server)", lambda: crypto.verify_envelope(envelope, clara.public), 500),
        (
            "PublicIdentity.from_bytes, version 1",
            lambda: crypto.PublicIdentity.from_bytes(theo_v1.public.to_bytes()),
            300,
        ),
        (
            "PublicIdentity.from_bytes, version 2",
            lambda: crypto.PublicIdentity.from_bytes(clara.public.to_bytes()),
            300,
        ),
    ]

    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"median of {args.runs} runs\n")
    print(f"{'operation':<40} {'median':>10} {'min':>10} {'max':>10} {'per second':>11}")
    print("-" * 85)
    for name, operation, batch in cases:
        samples = measure(operation, args.runs, batch)
        median = statistics.median(samples)
        print(
            f"{name:<40} {human(median):>10} {human(min(samples)):>10} "
            f"{human(max(samples)):>10} {1 / median:>11,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
