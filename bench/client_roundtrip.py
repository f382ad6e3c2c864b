"""Round trips through the Python client against one real Daphne process.

    python bench/client_roundtrip.py [--pairs 10] [--messages 200] [--stack both]

Starts its own server on 127.0.0.1 (the embedded default: SQLite and the in-memory layer;
and, when DATABASE_URL and REDIS_URL are set, the production stack on a database of its
own), makes ``--pairs`` therapist-client pairs through the real invitation flow, connects
all of them, and has every client send ``--messages`` messages to its therapist, each as
soon as the previous one was acknowledged. Reports messages per second over the whole
run, and the median and 99th percentile of send→ack (the sender's ``send_text``) and
send→recipient (the therapist's client has verified and decrypted it).

``--redis-socket-timeout N`` runs the production server with the channel layer's Redis
socket timeout set to N seconds, through a settings module written to the run's temporary
directory (nothing in the repository changes). redis-py 8 made 5 s the default, the same as
channels_redis's 5 s blocking receive, so an idle consumer's receive can time out and the
consumer dies; the option measures the stack with that fixed.

The clients and the server share this machine: on 2 cores the client side (sealing,
verifying, one event loop for every socket) competes with the server for CPU, so these
figures are a floor for the server. The server's per-socket rate limit (20 frames/s by
default) would cap each sender; it is raised for the run unless ``--keep-rate-limit``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402

from confide_client import ConfideClient  # noqa: E402
from harness.servers import (  # noqa: E402
    LiveServer,
    Stack,
    drop_production_stack,
    make_embedded_stack,
    make_production_stack,
    new_email,
    new_password,
)

RAISED_LIMITS = {"CONFIDE_MESSAGE_RATE": "100000", "CONFIDE_MESSAGE_BURST": "100000"}
SETTINGS_OVERRIDE = """from portal.settings import *  # noqa: F403

CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [  # noqa: F405
    {{"address": REDIS_URL, "socket_timeout": {timeout}}}  # noqa: F405
]
"""


@dataclass
class Result:
    stack: str
    redis_socket_timeout: float | None
    pairs: int
    messages: int
    seconds: float
    messages_per_second: float
    ack_median_ms: float
    ack_p99_ms: float
    recipient_median_ms: float
    recipient_p99_ms: float
    client_cpu_seconds: float
    server_cpu_seconds: float


@dataclass
class Pair:
    therapist: ConfideClient
    client: ConfideClient
    conversation: uuid.UUID


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _make_therapists(stack: Stack, count: int) -> list[tuple[str, str, str]]:
    """Therapists made as an operator makes them: email, password and the secret of the
    authenticator app each must have."""
    people = [(new_email("therapist"), new_password()) for _ in range(count)]
    requests = [
        {"email": e, "display_name": f"T{n}", "practice": f"P{n}", "password": p}
        for n, (e, p) in enumerate(people)
    ]
    made = json.loads(stack.manage("-m", "harness.make_account", stdin=json.dumps(requests)))
    return [(e, p, m["totp_secret"]) for (e, p), m in zip(people, made, strict=True)]


async def _make_pair(url: str, email: str, password: str, totp_secret: str) -> Pair:
    therapist = ConfideClient(url, backfill=False)
    await therapist.sign_in(email, password, second_factor=pyotp.TOTP(totp_secret).now())
    invitation = await therapist.create_invitation("Bench")
    client = ConfideClient(url, backfill=False)
    await client.accept_invitation(
        invitation.fragment, new_email("client"), "Bench", new_password()
    )
    # A client sends only once they accepted their practice's messaging agreement.
    await client.accept_agreement((await client.agreement()).version)
    await therapist.connect()
    await client.connect()
    return Pair(therapist, client, invitation.conversation)


async def _run_pair(pair: Pair, messages: int, acks: list[float], arrivals: list[float]) -> None:
    sent_at: dict[str, float] = {}

    async def receive() -> None:
        assert pair.client.account is not None
        got = 0
        while got < messages:
            message = await pair.therapist.next_message(60)
            if message.sender_id != pair.client.account.id:
                continue
            arrivals.append(time.perf_counter() - sent_at[message.text])
            got += 1

    receiving = asyncio.create_task(receive())
    for n in range(messages):
        text = f"{n} {secrets.token_hex(8)}"
        started = time.perf_counter()
        sent_at[text] = started
        await pair.client.send_text(pair.conversation, text, timeout=60)
        acks.append(time.perf_counter() - started)
    await asyncio.wait_for(receiving, 60)


async def _bench(
    stack: Stack, server: LiveServer, pairs: int, messages: int, redis_timeout: float | None
) -> Result:
    people = _make_therapists(stack, pairs)
    made = [await _make_pair(server.url, *person) for person in people]
    acks: list[float] = []
    arrivals: list[float] = []
    try:
        started = time.perf_counter()
        client_cpu, server_cpu = time.process_time(), _cpu_seconds(server.process.pid)
        await asyncio.gather(*(_run_pair(p, messages, acks, arrivals) for p in made))
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = _cpu_seconds(server.process.pid) - server_cpu
    finally:
        for pair in made:
            await pair.client.close()
            await pair.therapist.close()
    total = pairs * messages
    return Result(
        stack=stack.kind,
        redis_socket_timeout=redis_timeout,
        pairs=pairs,
        messages=total,
        seconds=round(seconds, 2),
        messages_per_second=round(total / seconds, 1),
        ack_median_ms=round(statistics.median(acks) * 1000, 1),
        ack_p99_ms=round(_percentile(acks, 0.99) * 1000, 1),
        recipient_median_ms=round(statistics.median(arrivals) * 1000, 1),
        recipient_p99_ms=round(_percentile(arrivals, 0.99) * 1000, 1),
        client_cpu_seconds=round(client_cpu, 1),
        server_cpu_seconds=round(server_cpu, 1),
    )


def _run(
    kind: str, pairs: int, messages: int, keep_rate_limit: bool, redis_timeout: float | None
) -> Result:
    with tempfile.TemporaryDirectory(prefix="confide-bench-") as tmp:
        data_dir = Path(tmp)
        admin_url = os.environ.get("DATABASE_URL", "")
        if kind == "production":
            stack = make_production_stack(data_dir, admin_url, os.environ["REDIS_URL"])
        else:
            stack = make_embedded_stack(data_dir)
            redis_timeout = None
        extra = {} if keep_rate_limit else dict(RAISED_LIMITS)
        if redis_timeout is not None:
            override = data_dir / "override"
            override.mkdir()
            text = SETTINGS_OVERRIDE.format(timeout=redis_timeout)
            (override / "bench_settings.py").write_text(text)
            extra.update(DJANGO_SETTINGS_MODULE="bench_settings", PYTHONPATH=str(override))
        try:
            server = stack.start_server(extra)
            return asyncio.run(_bench(stack, server, pairs, messages, redis_timeout))
        finally:
            if kind == "production":
                drop_production_stack(stack, admin_url)
            else:
                stack.stop_servers()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--stack", choices=["embedded", "production", "both"], default="both")
    parser.add_argument("--keep-rate-limit", action="store_true")
    parser.add_argument("--redis-socket-timeout", type=float, metavar="SECONDS")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    production = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    kinds = ["embedded", "production"] if args.stack == "both" else [args.stack]
    if "production" in kinds and not production:
        if args.stack == "production":
            parser.error("--stack production needs DATABASE_URL and REDIS_URL")
        kinds.remove("production")
    results = [
        _run(k, args.pairs, args.messages, args.keep_rate_limit, args.redis_socket_timeout)
        for k in kinds
    ]
    header = (
        f"{'stack':<11}{'msgs':>6}{'secs':>8}{'msg/s':>9}"
        f"{'ack p50':>10}{'ack p99':>10}{'recv p50':>10}{'recv p99':>10}"
        f"{'cpu cli':>9}{'cpu srv':>9}"
    )
    print(header)
    for r in results:
        print(
            f"{r.stack:<11}{r.messages:>6}{r.seconds:>8}{r.messages_per_second:>9}"
            f"{r.ack_median_ms:>10}{r.ack_p99_ms:>10}"
            f"{r.recipient_median_ms:>10}{r.recipient_p99_ms:>10}"
            f"{r.client_cpu_seconds:>9}{r.server_cpu_seconds:>9}"
        )
    print("latencies in ms; cpu in seconds of the client process and the server process")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
