"""The load generator: open-loop traffic through the real protocol, and the same traffic
through the relay the Channels tutorial teaches, side by side.

    python bench/loadgen.py [--pairs 100] [--idle-sockets 10000] [--prefill 10000000]

Needs DATABASE_URL (an administrative PostgreSQL URL; the run makes a database of its own
and drops it) and REDIS_URL. Writes ``bench/results/<time>.json`` and ``<time>.md``, and
copies the Markdown to ``bench/results/latest.md``.

What one run does, for each server (ours, then the baseline relay), each on a fresh
Daphne process on 127.0.0.1:
1. N client-therapist pairs connect (ours: authenticated sockets of seeded accounts;
   baseline: one tutorial chat room per pair).
2. A staircase of offered rates, each held for a few seconds, with sends scheduled in
   advance (open loop: a slow server does not slow the schedule, so its queueing shows as
   latency, not as fewer sends). Each message is a real sealed message of 1 KiB of padded
   plaintext (1197 bytes on the wire before base64), sealed before the step starts so
   the generator's crypto is not measured. The step's throughput is what the server
   acknowledged within the step (ours acks only after the commit); saturation is the
   highest throughput of any step.
3. A run at half of saturation, for latency from the scheduled send to the recipient's
   socket (p50, p99, p99.9).
4. (ours) Idle authenticated sockets: the server's resident memory before and after
   opening them, per socket, the connects a second and the server's CPU per connect.
5. (ours, ``--restart-sockets N``) N sockets open, the server restarted under them, and
   every client back and synced as the web client comes back: how long, and how many lost.
Every message is accounted for: acknowledged, refused with an error frame, or unanswered;
each acknowledged message delivered to the other member exactly once (missing and
duplicated deliveries are counted), and the database holds exactly the acknowledged ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import WebSocketException  # noqa: E402

import crypto  # noqa: E402
from bench.prefill import prefill  # noqa: E402
from crypto import ConversationKey, IdentityKeyPair  # noqa: E402
from harness.servers import (  # noqa: E402
    LiveServer,
    Stack,
    drop_production_stack,
    make_production_stack,
)
from portal.serving import SERVERS  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PLAINTEXT_BYTES = 1000  # padded to the 1024-byte bucket: 1197 bytes sealed
SERVER_LIMITS = {
    "CONFIDE_MESSAGE_RATE": "1000000",
    "CONFIDE_MESSAGE_BURST": "1000000",
    "CONFIDE_MAX_SOCKETS_PER_USER": "1000000",
}


def open_socket(
    url: str, headers: dict[str, str] | None, open_timeout: float, **options: Any
) -> connect:
    """A socket to the server as every client here opens one: no compression, no pings,
    and no proxy (websockets would otherwise read the proxy settings from the environment
    for every connect, a tenth of the generator's CPU in a storm)."""
    return connect(
        url,
        additional_headers=headers,
        compression=None,
        ping_interval=None,
        proxy=None,
        open_timeout=open_timeout,
        **options,
    )


# --- measurements ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of every live process under it (a server of
    several processes), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / ticks
    return own + sum(process_cpu_seconds(int(child)) for child in children)


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy (every core, every process: the server,
    the generator, PostgreSQL and Redis alike), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    ticks = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq + steal) / ticks


def process_rss_bytes(pid: int) -> int:
    """Resident memory of a process and of every live process under it."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            own = int(line.split()[1]) * 1024
            return own + sum(process_rss_bytes(int(child)) for child in children)
    raise RuntimeError("no VmRSS")


@dataclass
class Ledger:
    """Every message of a step: when it was due, acknowledged, refused and delivered."""

    due: dict[str, float] = field(default_factory=dict)
    sent: dict[str, float] = field(default_factory=dict)
    acked: dict[str, float] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    delivered: dict[str, list[float]] = field(default_factory=dict)

    def open_count(self) -> int:
        return sum(1 for m in self.sent if m not in self.acked and m not in self.refused)


@dataclass
class StepResult:
    offered_per_s: float
    seconds: float
    sent: int
    acked_in_window_per_s: float
    acked: int
    refused: int
    refusal_codes: dict[str, int]
    unanswered: int
    missing_deliveries: int
    duplicate_deliveries: int
    latency_ms: dict[str, float]
    ack_ms: dict[str, float]
    send_lag_p99_ms: float
    server_cpu_per_s: float
    generator_cpu_per_s: float
    # The whole machine's busy cores over the step: server, generator, PostgreSQL, Redis.
    machine_busy_cores: float


# --- the two servers ------------------------------------------------------------------------


class Protocol:
    """How one server's frames look; ``Endpoint`` does the rest."""

    name = ""

    def url(self, pair: Pair, side: str) -> str:
        raise NotImplementedError

    def headers(self, pair: Pair, side: str) -> dict[str, str]:
        return {}

    def frame(self, pair: Pair, message_id: str, payload: str) -> str:
        raise NotImplementedError


@dataclass
class Pair:
    index: int
    conversation: uuid.UUID
    client: IdentityKeyPair
    therapist: IdentityKeyPair
    key: ConversationKey
    client_id: int = 0
    therapist_id: int = 0
    sessions: dict[str, str] = field(default_factory=dict)


class Confide(Protocol):
    name = "confide"

    def __init__(self, server: LiveServer) -> None:
        self.server = server

    def url(self, pair: Pair, side: str) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws"

    def headers(self, pair: Pair, side: str) -> dict[str, str]:
        return {
            "Cookie": f"sessionid={pair.sessions[side]}",
            "Origin": f"http://127.0.0.1:{self.server.port}",
        }

    def frame(self, pair: Pair, message_id: str, payload: str) -> str:
        return json.dumps(
            {
                "type": "send",
                "ref": message_id,
                "conversation": str(pair.conversation),
                "client_message_id": message_id,
                "epoch": 0,
                "ciphertext": payload,
            },
            separators=(",", ":"),
        )


class Relay(Protocol):
    name = "baseline relay"

    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, pair: Pair, side: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/chat/pair{pair.index}/"

    def frame(self, pair: Pair, message_id: str, payload: str) -> str:
        return json.dumps({"message": f"{message_id}|{payload}"}, separators=(",", ":"))


class Endpoint:
    """One member's socket: sends frames, and files every frame it receives in the ledger.

    Against our server it behaves as the real clients do when the server closes the socket
    (1012 after an overflow, for one): it reconnects, backfills with ``sync`` from the last
    sequence number it holds, and resends the same bytes of every unanswered message. A
    message counts as delivered once per sequence number (as clients dedupe); the same
    message under two sequence numbers is a duplicate.
    """

    def __init__(self, protocol: Protocol, pair: Pair, side: str) -> None:
        self.protocol = protocol
        self.pair = pair
        self.side = side
        self.socket: ClientConnection | None = None
        self.ledger = Ledger()
        self.reader: asyncio.Task[None] | None = None
        self.texts: dict[str, str] = {}
        self.last_seq = 0
        self.seen_seqs: set[int] = set()
        self.closing = False
        self.reconnects = 0

    async def _connect(self) -> ClientConnection:
        socket = await open_socket(
            self.protocol.url(self.pair, self.side),
            self.protocol.headers(self.pair, self.side),
            60,
            max_size=2**23,
        )
        if isinstance(self.protocol, Confide):
            ready = json.loads(await socket.recv())
            if ready.get("type") != "ready":
                raise RuntimeError(f"expected ready, got {ready}")
        return socket

    async def open(self) -> None:
        self.socket = await self._connect()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            socket = self.socket
            assert socket is not None
            with contextlib.suppress(Exception):
                async for raw in socket:
                    self._file(json.loads(raw), time.perf_counter())
            if self.closing or isinstance(self.protocol, Relay):
                return
            await self._reconnect()

    async def _reconnect(self) -> None:
        self.reconnects += 1
        for attempt in range(50):
            try:
                self.socket = await self._connect()
                break
            except Exception:
                await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            return
        await self._sync()
        ledger = self.ledger
        for message_id in list(ledger.sent):
            if message_id not in ledger.acked and message_id not in ledger.refused:
                with contextlib.suppress(Exception):
                    await self.socket.send(self.texts[message_id])

    async def _sync(self) -> None:
        assert self.socket is not None
        after = {str(self.pair.conversation): self.last_seq}
        with contextlib.suppress(Exception):
            await self.socket.send(json.dumps({"type": "sync", "ref": "sync", "after": after}))

    def _file(self, frame: dict[str, Any], now: float) -> None:
        ledger = self.ledger
        if isinstance(self.protocol, Relay):
            message_id = frame["message"].split("|", 1)[0]
            if message_id in ledger.sent:  # our own message, echoed: the relay's ack
                ledger.acked[message_id] = now
            else:
                ledger.delivered.setdefault(message_id, []).append(now)
            return
        kind = frame.get("type")
        if kind == "ack":
            message_id = frame["client_message_id"]
            if message_id not in ledger.sent:
                return  # a late answer to an earlier step
            ledger.acked[message_id] = now
            # Held from its ack, as the clients do: the sending socket gets no push of it.
            self.last_seq = max(self.last_seq, frame["seq"])
            self.seen_seqs.add(frame["seq"])
        elif kind == "message":
            self._deliver(frame, now)
        elif kind == "sync":
            for page in frame["conversations"]:
                for message in page["messages"]:
                    self._deliver(message, now)
                if page["has_more"]:
                    asyncio.get_running_loop().create_task(self._sync())
        elif kind == "error":
            ledger.refused[frame.get("ref", "?")] = frame.get("code", "?")

    def _deliver(self, message: dict[str, Any], now: float) -> None:
        seq = message["seq"]
        self.last_seq = max(self.last_seq, seq)
        if seq in self.seen_seqs:
            return
        self.seen_seqs.add(seq)
        message_id = message["client_message_id"]
        if message_id not in self.ledger.sent:
            self.ledger.delivered.setdefault(message_id, []).append(now)

    async def send(self, message_id: str, text: str, due: float) -> None:
        socket = self.socket
        assert socket is not None
        self.ledger.due[message_id] = due
        self.ledger.sent[message_id] = time.perf_counter()
        if isinstance(self.protocol, Confide):
            self.texts[message_id] = text
        try:
            await socket.send(text)
        except Exception:
            current = self.socket
            if current is not None and current is not socket:
                # Reconnected meanwhile: the resend may have missed it.
                with contextlib.suppress(Exception):
                    await current.send(text)
            # otherwise the reconnect resends it

    async def close(self) -> None:
        self.closing = True
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


# --- pairs and messages ---------------------------------------------------------------------


def make_pairs(count: int) -> list[Pair]:
    return [
        Pair(
            index,
            uuid.uuid4(),
            IdentityKeyPair.generate(),
            IdentityKeyPair.generate(),
            ConversationKey.generate(),
        )
        for index in range(count)
    ]


def seed_pairs(stack: Stack, pairs: list[Pair]) -> None:
    """Creates the accounts, conversations and sessions in the server's database."""
    public = []
    for pair in pairs:
        # Version-3 envelopes to version-2 identities sign the epoch's start: one for both.
        created_at = int(time.time() * 1000)
        envelopes = {
            side: crypto.b64encode(
                crypto.wrap_conversation_key(
                    pair.key, pair.conversation, 0, member.public, pair.client, created_at
                )
            )
            for side, member in (("client", pair.client), ("therapist", pair.therapist))
        }
        public.append(
            {
                "conversation": str(pair.conversation),
                "client_identity": crypto.b64encode(pair.client.public.to_bytes()),
                "therapist_identity": crypto.b64encode(pair.therapist.public.to_bytes()),
                "client_envelope": envelopes["client"],
                "therapist_envelope": envelopes["therapist"],
            }
        )
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "seed_pairs.py")],
        cwd=ROOT,
        env=stack.env,
        input=json.dumps(public),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    for pair, made in zip(pairs, json.loads(result.stdout), strict=True):
        pair.client_id = made["client"]
        pair.therapist_id = made["therapist"]
        pair.sessions = {"client": made["client_session"], "therapist": made["therapist_session"]}


@dataclass
class Planned:
    due: float  # seconds from the step's start
    pair: Pair
    side: str
    message_id: str
    text: str


def plan_step(
    protocol: Protocol, pairs: list[Pair], rate: float, seconds: float, rng: random.Random
) -> list[Planned]:
    """Poisson arrivals at ``rate`` over ``seconds``, each from a random member of a random
    pair, each sealed now (before the clock starts)."""
    plaintext = bytes(PLAINTEXT_BYTES)
    planned = []
    t = rng.expovariate(rate)
    while t < seconds:
        pair = rng.choice(pairs)
        side = rng.choice(("client", "therapist"))
        sender = pair.client if side == "client" else pair.therapist
        message_id = uuid.uuid4()
        sealed = crypto.seal_message(plaintext, pair.key, pair.conversation, 0, sender, message_id)
        text = protocol.frame(pair, str(message_id), crypto.b64encode(sealed))
        planned.append(Planned(t, pair, side, str(message_id), text))
        t += rng.expovariate(rate)
    return planned


# --- running a step -------------------------------------------------------------------------


async def run_step(
    endpoints: dict[tuple[int, str], Endpoint],
    planned: list[Planned],
    rate: float,
    seconds: float,
    server_pids: list[int],
    drain_seconds: float,
    *,
    keep_ledgers: bool = False,
    detach_sends: bool = False,
) -> StepResult:
    """Sends ``planned`` on schedule; with ``detach_sends`` a socket whose sends block (the
    server stopped reading it) does not hold up the others' schedule."""
    if not keep_ledgers:
        for endpoint in endpoints.values():
            endpoint.ledger = Ledger()
    cpu0 = sum(process_cpu_seconds(pid) for pid in server_pids)
    own0 = time.process_time()
    busy0 = machine_busy_seconds()
    start = time.perf_counter()
    lags = []
    sending: set[asyncio.Task[None]] = set()
    for item in planned:
        due = start + item.due
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(time.perf_counter() - due)
        endpoint = endpoints[(item.pair.index, item.side)]
        if detach_sends:
            task = asyncio.create_task(endpoint.send(item.message_id, item.text, due))
            sending.add(task)
            task.add_done_callback(sending.discard)
        else:
            await endpoint.send(item.message_id, item.text, due)
    if sending:
        await asyncio.wait(sending, timeout=drain_seconds)
    window_end = start + seconds
    # Wait for every answer and delivery, up to the drain time.
    deadline = time.perf_counter() + drain_seconds
    while time.perf_counter() < deadline:
        open_sends = sum(e.ledger.open_count() for e in endpoints.values())
        if open_sends == 0 and _undelivered(endpoints) == 0:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    cpu = sum(process_cpu_seconds(pid) for pid in server_pids) - cpu0
    own = time.process_time() - own0
    busy = machine_busy_seconds() - busy0
    return _summarise(endpoints, rate, seconds, start, window_end, lags, cpu, own, busy, elapsed)


def _undelivered(endpoints: dict[tuple[int, str], Endpoint]) -> int:
    missing = 0
    for (index, side), endpoint in endpoints.items():
        other = endpoints[(index, "therapist" if side == "client" else "client")]
        missing += sum(1 for m in endpoint.ledger.acked if m not in other.ledger.delivered)
    return missing


def _summarise(
    endpoints: dict[tuple[int, str], Endpoint],
    rate: float,
    seconds: float,
    start: float,
    window_end: float,
    lags: list[float],
    server_cpu: float,
    own_cpu: float,
    machine_busy: float,
    elapsed: float,
) -> StepResult:
    sent = acked = refused = unanswered = in_window = missing = duplicated = 0
    codes: Counter[str] = Counter()
    latencies = []
    acks = []
    for (index, side), endpoint in endpoints.items():
        ledger = endpoint.ledger
        other = endpoints[(index, "therapist" if side == "client" else "client")].ledger
        sent += len(ledger.sent)
        acked += len(ledger.acked)
        refused += len(ledger.refused)
        codes.update(ledger.refused.values())
        unanswered += ledger.open_count()
        in_window += sum(1 for t in ledger.acked.values() if t <= window_end)
        for message_id, acked_at in ledger.acked.items():
            acks.append((acked_at - ledger.due[message_id]) * 1000)
            times = other.delivered.get(message_id)
            if not times:
                missing += 1
                continue
            duplicated += len(times) - 1
            latencies.append((times[0] - ledger.due[message_id]) * 1000)
    return StepResult(
        offered_per_s=rate,
        seconds=seconds,
        sent=sent,
        acked_in_window_per_s=round(in_window / seconds, 1),
        acked=acked,
        refused=refused,
        refusal_codes=dict(codes),
        unanswered=unanswered,
        missing_deliveries=missing,
        duplicate_deliveries=duplicated,
        latency_ms={
            "p50": round(percentile(latencies, 50), 2),
            "p99": round(percentile(latencies, 99), 2),
            "p99.9": round(percentile(latencies, 99.9), 2),
            "max": round(max(latencies), 2) if latencies else float("nan"),
        },
        ack_ms={
            "p50": round(percentile(acks, 50), 2),
            "p99": round(percentile(acks, 99), 2),
        },
        send_lag_p99_ms=round(percentile(lags, 99) * 1000, 2),
        server_cpu_per_s=round(server_cpu / elapsed, 3),
        generator_cpu_per_s=round(own_cpu / elapsed, 3),
        machine_busy_cores=round(machine_busy / elapsed, 3),
    )


async def open_endpoints(protocol: Protocol, pairs: list[Pair]) -> dict[tuple[int, str], Endpoint]:
    endpoints = {
        (pair.index, side): Endpoint(protocol, pair, side)
        for pair in pairs
        for side in ("client", "therapist")
    }
    items = list(endpoints.values())
    for i in range(0, len(items), 100):
        await asyncio.gather(*(e.open() for e in items[i : i + 100]))
    return endpoints


async def staircase(
    protocol: Protocol,
    pairs: list[Pair],
    server_pids: list[int],
    args: argparse.Namespace,
    rng: random.Random,
) -> dict[str, Any]:
    """Steps up the offered rate until the server falls behind; then half of that."""
    endpoints = await open_endpoints(protocol, pairs)
    steps: list[StepResult] = []
    try:
        rate = args.baseline_start_rate if isinstance(protocol, Relay) else args.start_rate
        while rate <= args.max_rate:
            planned = plan_step(protocol, pairs, rate, args.step_seconds, rng)
            if args.profile and not steps:
                profile_server(server_pids[0], args.step_seconds, args.profile, protocol.name)
            step = await run_step(
                endpoints, planned, rate, args.step_seconds, server_pids, args.drain_seconds
            )
            steps.append(step)
            _print_step(protocol.name, step)
            # Behind: acknowledgements fall well short of the offer (Poisson arrivals vary
            # by a few percent a step), or messages wait a second.
            behind = step.acked_in_window_per_s < 0.85 * rate or step.latency_ms["p99"] > 1000
            if behind or step.refused:
                break
            rate = round(rate * args.step_factor)
        saturation = max(s.acked_in_window_per_s for s in steps)
        half = max(1.0, saturation / 2)
        planned = plan_step(protocol, pairs, half, args.half_seconds, rng)
        at_half = await run_step(
            endpoints, planned, half, args.half_seconds, server_pids, args.drain_seconds
        )
        _print_step(protocol.name + " at half", at_half)
    finally:
        for endpoint in endpoints.values():
            await endpoint.close()
    return {
        "saturation_per_s": saturation,
        "steps": [asdict(s) for s in steps],
        "half_load": asdict(at_half),
    }


def profile_server(pid: int, seconds: float, out: Path, name: str) -> None:
    """Samples the server with py-spy (``pip install py-spy``) during the first step."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name.replace(' ', '-')}.raw"
    subprocess.Popen(  # noqa: S603 - a fixed command
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(target),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def overload(
    protocol: Protocol,
    pairs: list[Pair],
    server_pid: int,
    saturation: float,
    normal_p99_ms: float,
    args: argparse.Namespace,
    rng: random.Random,
) -> dict[str, Any]:
    """Twice saturation for ``--overload-seconds``, then half of saturation: is every
    message acknowledged or refused with an error frame, does memory stay bounded, and how
    soon are latencies back to normal?"""
    endpoints = await open_endpoints(protocol, pairs)
    rss: list[int] = []

    async def sample() -> None:
        while True:
            rss.append(process_rss_bytes(server_pid))
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    try:
        rate = 2 * saturation
        planned = plan_step(protocol, pairs, rate, args.overload_seconds, rng)
        rss_before = process_rss_bytes(server_pid)
        hard = await run_step(
            endpoints,
            planned,
            rate,
            args.overload_seconds,
            [server_pid],
            0,
            detach_sends=True,
        )
        _print_step(protocol.name + " overload", hard)
        # Straight on at half load; the overload's late answers are still counted in
        # its own ledgers, which the recovery step keeps.
        recovery_seconds = 15.0
        planned = plan_step(protocol, pairs, saturation / 2, recovery_seconds, rng)
        recovery_start = time.perf_counter()
        after = await run_step(
            endpoints,
            planned,
            saturation / 2,
            recovery_seconds,
            [server_pid],
            args.drain_seconds,
            keep_ledgers=True,
        )
    finally:
        sampler.cancel()
        for endpoint in endpoints.values():
            await endpoint.close()
    threshold = max(3 * normal_p99_ms, 50.0)
    buckets: dict[int, list[float]] = {}
    refusals: Counter[str] = Counter()
    sent = answered = 0
    for (index, side), endpoint in endpoints.items():
        ledger = endpoint.ledger
        other = endpoints[(index, "therapist" if side == "client" else "client")].ledger
        sent += len(ledger.sent)
        answered += sum(1 for m in ledger.sent if m in ledger.acked or m in ledger.refused)
        refusals.update(ledger.refused.values())
        for message_id, due in ledger.due.items():
            if due >= recovery_start and message_id in other.delivered:
                second = int(due - recovery_start)
                buckets.setdefault(second, []).append((other.delivered[message_id][0] - due) * 1000)
    p99_by_second = {s: round(percentile(v, 99), 1) for s, v in sorted(buckets.items())}
    normal_from = next(
        (
            s
            for s in sorted(p99_by_second)
            if all(p99_by_second[t] <= threshold for t in p99_by_second if t >= s)
        ),
        None,
    )
    return {
        "offered_per_s": round(rate),
        "seconds": args.overload_seconds,
        "overload_step": asdict(hard),
        "sent_total": sent,
        "answered_total": answered,
        "unanswered_total": sent - answered,
        "refusals": dict(refusals),
        "rss_before_mib": round(rss_before / 2**20, 1),
        "rss_max_mib": round(max(rss) / 2**20, 1),
        "rss_after_mib": round(rss[-1] / 2**20, 1),
        "recovery_threshold_p99_ms": threshold,
        "recovery_p99_by_second_ms": p99_by_second,
        "normal_after_s": normal_from,
        "recovery_step": asdict(after),
    }


def _print_step(name: str, step: StepResult) -> None:
    print(
        f"{name:>22}: offered {step.offered_per_s:>7.0f}/s"
        f"  acked {step.acked_in_window_per_s:>7.0f}/s"
        f"  p50 {step.latency_ms['p50']:>8.2f} ms  p99 {step.latency_ms['p99']:>8.2f} ms"
        f"  (ack p50 {step.ack_ms['p50']:.2f} ms)"
        f"  refused {step.refused}  unanswered {step.unanswered}"
        f"  missing {step.missing_deliveries}  dup {step.duplicate_deliveries}"
        f"  server cpu {step.server_cpu_per_s:.2f}  gen cpu {step.generator_cpu_per_s:.2f}"
        f"  machine busy {step.machine_busy_cores:.2f} of {os.cpu_count()} cores",
        flush=True,
    )


# --- idle sockets ---------------------------------------------------------------------------


async def idle_socket_memory(server: LiveServer, pairs: list[Pair], count: int) -> dict[str, Any]:
    """The server's resident memory per idle authenticated socket, over ``count`` sockets."""
    protocol = Confide(server)
    await asyncio.sleep(1)
    before = process_rss_bytes(server.process.pid)
    cpu_before = process_cpu_seconds(server.process.pid)
    sockets: list[ClientConnection] = []
    started = time.perf_counter()
    try:
        batch = 200
        for i in range(0, count, batch):

            async def one(j: int) -> ClientConnection:
                pair = pairs[j % len(pairs)]
                side = "client" if (j // len(pairs)) % 2 == 0 else "therapist"
                socket = await open_socket(
                    protocol.url(pair, side), protocol.headers(pair, side), 120
                )
                ready = json.loads(await socket.recv())
                if ready.get("type") != "ready":
                    raise RuntimeError(f"expected ready, got {ready}")
                return socket

            sockets.extend(await asyncio.gather(*(one(j) for j in range(i, min(count, i + batch)))))
        connect_seconds = time.perf_counter() - started
        connect_cpu = process_cpu_seconds(server.process.pid) - cpu_before
        await asyncio.sleep(3)
        after = process_rss_bytes(server.process.pid)
        alive = server.process.poll() is None
    finally:
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    return {
        "sockets": len(sockets),
        "server_alive": alive,
        "rss_before_mib": round(before / 2**20, 1),
        "rss_after_mib": round(after / 2**20, 1),
        "per_socket_kib": round((after - before) / len(sockets) / 1024, 1),
        "connect_seconds": round(connect_seconds, 1),
        "connects_per_s": round(len(sockets) / connect_seconds, 1),
        # Every server process's CPU while the sockets opened, per socket.
        "server_cpu_ms_per_connect": round(connect_cpu / len(sockets) * 1000, 2),
    }


# --- a restart under open sockets -----------------------------------------------------------


def last_seqs(stack: Stack) -> dict[uuid.UUID, int]:
    """Each conversation's last sequence number: what an open socket's client holds."""
    import psycopg

    assert stack.database_url is not None
    with psycopg.connect(stack.database_url) as connection:
        rows = connection.execute("SELECT id, last_seq FROM messaging_conversation").fetchall()
    return {row[0]: int(row[1]) for row in rows}


async def restart_storm(
    stack: Stack, server: LiveServer, pairs: list[Pair], count: int, env: dict[str, str]
) -> tuple[LiveServer, dict[str, Any]]:
    """``count`` authenticated sockets open, then the server restarted under them (SIGTERM,
    and started again as ``confide serve`` is), and every client back as the web client
    comes back (socket.js, backoff.js): after its first reconnect delay (250 to 500 ms,
    doubling after each failure, capped at 30 s), a new socket, its ``ready``, and a
    ``sync`` of its conversation from the last number it held. Reports how long from the
    new server's first answer until the last client has its sync's answer, and how many
    never did within two minutes (lost). Returns the new server."""
    sides = [
        (pairs[j % len(pairs)], "client" if (j // len(pairs)) % 2 == 0 else "therapist")
        for j in range(count)
    ]
    protocol = Confide(server)
    sockets: list[ClientConnection] = []
    for i in range(0, count, 200):

        async def one(pair: Pair, side: str) -> ClientConnection:
            socket = await open_socket(protocol.url(pair, side), protocol.headers(pair, side), 120)
            await socket.recv()  # ready
            return socket

        sockets.extend(await asyncio.gather(*(one(p, s) for p, s in sides[i : i + 200])))
    held = last_seqs(stack)
    stopped = time.perf_counter()
    server.stop()
    await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
    new = stack.start_server(env)
    back_at = time.perf_counter()
    server_cpu = process_cpu_seconds(new.process.pid)
    generator_cpu = time.process_time()
    protocol = Confide(new)
    rng = random.Random(7)
    deadline = back_at + 120
    attempts: Counter[int] = Counter()
    failures: Counter[str] = Counter()

    async def come_back(pair: Pair, side: str) -> float | None:
        attempt = 0
        while True:
            ceiling = min(30_000, 500 * 2**attempt)
            await asyncio.sleep((ceiling / 2 + rng.random() * ceiling / 2) / 1000)
            if time.perf_counter() > deadline:
                return None
            try:
                async with open_socket(
                    protocol.url(pair, side), protocol.headers(pair, side), 30
                ) as socket:
                    ready = json.loads(await asyncio.wait_for(socket.recv(), 30))
                    if ready.get("type") != "ready":
                        raise RuntimeError(f"expected ready, got {ready}")
                    after = {str(pair.conversation): held.get(pair.conversation, 0)}
                    await socket.send(json.dumps({"type": "sync", "ref": "s", "after": after}))
                    while True:
                        reply = json.loads(await asyncio.wait_for(socket.recv(), 30))
                        if reply.get("ref") == "s":
                            break
                    if reply.get("type") != "sync":
                        raise RuntimeError(f"expected sync, got {reply.get('code')}")
                    attempts[attempt] += 1
                    return time.perf_counter() - back_at
            except (OSError, TimeoutError, RuntimeError, WebSocketException) as exc:
                failures[_failure(exc)] += 1
                attempt += 1

    done = await asyncio.gather(*(come_back(p, s) for p, s in sides))
    errors = [
        line.decode(errors="replace")[-3000:]
        for line in new.log().splitlines()
        if b'"level": "ERROR"' in line
    ]
    finished = sorted(d for d in done if d is not None)
    # CPU from the new server's first answer until the last client was back (or gave up).
    server_cpu = process_cpu_seconds(new.process.pid) - server_cpu
    generator_cpu = time.process_time() - generator_cpu
    return new, {
        "sockets": count,
        "restart_seconds": round(back_at - stopped, 1),
        "all_back_seconds": round(finished[-1], 1) if finished else None,
        "p50_back_seconds": round(percentile(finished, 50), 2) if finished else None,
        "lost": count - len(finished),
        "attempts": {str(k): v for k, v in sorted(attempts.items())},
        "failures": dict(failures.most_common()),
        "server_errors": len(errors),
        # The first of them, to read when there are any.
        "server_error_sample": errors[:3],
        "server_cpu_seconds": round(server_cpu, 1),
        "generator_cpu_seconds": round(generator_cpu, 1),
    }


def _failure(exc: BaseException) -> str:
    """What a failed attempt to come back met: the exception, and a close's code or an
    HTTP status refusing the upgrade."""
    code = getattr(getattr(exc, "rcvd", None), "code", None)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    detail = code if code is not None else status
    return type(exc).__name__ if detail is None else f"{type(exc).__name__} {detail}"


# --- database check -------------------------------------------------------------------------


def stored_counts(stack: Stack) -> int:
    import psycopg

    assert stack.database_url is not None
    with psycopg.connect(stack.database_url) as connection:
        row = connection.execute("SELECT count(*) FROM messaging_message").fetchone()
        assert row is not None
        return int(row[0])


# --- servers --------------------------------------------------------------------------------


def start_relay(data_dir: Path, redis_url: str) -> subprocess.Popen[bytes]:
    log = (data_dir / "relay.log").open("wb")
    env = {**os.environ, "RELAY_REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            "0",
            "bench.baseline.relay:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process


def relay_port(data_dir: Path, process: subprocess.Popen[bytes]) -> int:
    import re

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(
            rb"Listening on TCP address 127\.0\.0\.1:(\d+)", (data_dir / "relay.log").read_bytes()
        )
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError((data_dir / "relay.log").read_text()[-4000:])


# --- report ---------------------------------------------------------------------------------


def _prefill_line(report: dict[str, Any]) -> list[str]:
    made = report.get("prefill")
    if not made:
        return ["The message table was empty when the load began.", ""]
    return [
        f"The message table already held {made['messages']:,} messages over"
        f" {made['conversations']:,} conversations ({made['table_bytes'] / 2**30:.1f} GiB,"
        f" made in {made['total_seconds']} s by bench/prefill.py).",
        "",
    ]


def markdown(report: dict[str, Any]) -> str:
    ours = report["confide"]
    base = report["baseline"]
    half, base_half = ours["half_load"], base["half_load"]
    idle = report.get("idle_sockets") or {}
    steps = [*ours["steps"], half]
    lost = sum(s["missing_deliveries"] for s in steps)
    duplicated = sum(s["duplicate_deliveries"] for s in steps)
    ratio = ours["saturation_per_s"] / base["saturation_per_s"] if base["saturation_per_s"] else 0

    def row(*cells: object) -> str:
        return "| " + " | ".join(str(c) for c in cells) + " |"

    lines = [
        f"# Load generator results, {report['started']}",
        "",
        f"{report['machine']}; {report['pairs']} pairs; server and generator on one machine;"
        f" {report['args'].get('server', 'uvicorn')},"
        f" {report['args'].get('processes', 1)} server process(es).",
        "",
        *_prefill_line(report),
        row("figure", "ours", "baseline relay", "target"),
        row("---", "---", "---", "---"),
        row(
            "committed messages/s at saturation",
            f"{ours['saturation_per_s']:.0f}",
            f"{base['saturation_per_s']:.0f} (relayed, not stored)",
            "≥ 2000",
        ),
        row("ratio to the baseline", f"{ratio:.2f} ×", "1 ×", "≥ 4 ×"),
        row(
            "half load", f"{half['offered_per_s']:.0f}/s", f"{base_half['offered_per_s']:.0f}/s", ""
        ),
    ]
    for q, target in (("p50", "≤ 3 ms"), ("p99", "≤ 20 ms"), ("p99.9", "")):
        lines.append(
            row(
                f"send → recipient {q} at half load",
                f"{half['latency_ms'][q]} ms",
                f"{base_half['latency_ms'][q]} ms",
                target,
            )
        )
    lines += [
        row(
            "server CPU at half load (cores)",
            half["server_cpu_per_s"],
            base_half["server_cpu_per_s"],
            "",
        ),
        row(
            "generator CPU at half load (cores)",
            half["generator_cpu_per_s"],
            base_half["generator_cpu_per_s"],
            "",
        ),
        row(
            "whole machine busy at half load (cores)",
            half["machine_busy_cores"],
            base_half["machine_busy_cores"],
            "",
        ),
        row("lost / duplicated deliveries (all steps)", f"{lost} / {duplicated}", "", "0 / 0"),
        row(
            "acknowledged / rows in the database",
            f"{report['acked_total']} / {report['rows_stored']}",
            "",
            "equal",
        ),
    ]
    if idle:
        lines.append(
            row(
                "memory per idle authenticated socket",
                f"{idle['per_socket_kib']} KiB ({idle['sockets']} sockets,"
                f" server alive: {idle['server_alive']})",
                "",
                "≤ 64 KiB; 10,000 sockets",
            )
        )
        lines.append(
            row(
                "authenticated connects a second (server CPU each)",
                f"{idle['connects_per_s']} ({idle['server_cpu_ms_per_connect']} ms)",
                "",
                "≥ 1,000",
            )
        )
    restart = report.get("restart")
    if restart:
        lines.append(
            row(
                "sockets back and synced after a restart",
                f"{restart['sockets'] - restart['lost']} of {restart['sockets']} in"
                f" {restart['all_back_seconds']} s (median {restart['p50_back_seconds']} s)",
                "",
                "10,000 within 15 s, none lost",
            )
        )
    lines += ["", "Steps (offered → acknowledged within the step):", ""]
    for name, part in (("ours", ours), ("baseline", base)):
        for s in part["steps"]:
            lines.append(
                f"- {name}: {s['offered_per_s']:.0f}/s → {s['acked_in_window_per_s']:.0f}/s,"
                f" p50 {s['latency_ms']['p50']} ms, p99 {s['latency_ms']['p99']} ms,"
                f" server CPU {s['server_cpu_per_s']} cores, refused {s['refused']}"
            )
    return "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    admin_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "pairs": args.pairs,
        "args": vars(args),
    }
    with tempfile.TemporaryDirectory(prefix="confide-bench-") as tmp:
        data_dir = Path(tmp)
        pairs = make_pairs(args.pairs)
        stack = make_production_stack(data_dir / "ours", admin_url, redis_url)
        try:
            if args.only == "baseline":
                raise _Skip
            confide_env = {
                **SERVER_LIMITS,
                "CONFIDE_SERVER": args.server,
                "CONFIDE_SERVER_PROCESSES": str(args.processes),
            }
            server = stack.start_server(confide_env)
            seed_pairs(stack, pairs)
            if args.prefill:
                assert stack.database_url is not None
                report["prefill"] = prefill(
                    stack.database_url, args.prefill, args.prefill_conversations
                )
                print("prefill:", report["prefill"], flush=True)
            report["confide"] = await staircase(
                Confide(server), pairs, [server.process.pid], args, rng
            )
            report["acked_total"] = (
                sum(s["acked"] for s in report["confide"]["steps"])
                + report["confide"]["half_load"]["acked"]
            )
            # What the load stored: the rows beyond the prefilled history.
            report["rows_stored"] = stored_counts(stack) - report.get("prefill", {}).get(
                "messages", 0
            )
            if args.overload_seconds:
                # The operator's capacity setting, a little under the measured saturation,
                # on a second server process of the same stack.
                ours = report["confide"]
                cap = max(1, int(0.9 * ours["saturation_per_s"]))
                capped = stack.start_server(
                    {**SERVER_LIMITS, "CONFIDE_MAX_SENDS_PER_SECOND": str(cap)}
                )
                report["overload"] = found = await overload(
                    Confide(capped),
                    pairs,
                    capped.process.pid,
                    ours["saturation_per_s"],
                    ours["half_load"]["latency_ms"]["p99"],
                    args,
                    rng,
                )
                found["capacity_setting_per_s"] = cap
                found["acked_total"] = found["recovery_step"]["acked"]
                found["rows_stored"] = stored_counts(stack) - report["rows_stored"]
                print("overload:", {k: v for k, v in found.items() if "step" not in k}, flush=True)
            if args.idle_sockets:
                report["idle_sockets"] = await idle_socket_memory(server, pairs, args.idle_sockets)
                print("idle sockets:", report["idle_sockets"], flush=True)
            if args.restart_sockets:
                server, report["restart"] = await restart_storm(
                    stack, server, pairs, args.restart_sockets, confide_env
                )
                print("restart:", report["restart"], flush=True)
        except _Skip:
            pass
        except BaseException:
            for live in stack.servers:
                sys.stderr.write(live.log()[-3000:].decode(errors="replace"))
            raise
        finally:
            if os.environ.get("BENCH_KEEP_LOG"):
                for live in stack.servers:
                    Path(os.environ["BENCH_KEEP_LOG"]).write_bytes(live.log())
            drop_production_stack(stack, admin_url)
        if args.only == "confide":
            return report
        relay = start_relay(data_dir, redis_url)
        try:
            port = relay_port(data_dir, relay)
            report["baseline"] = await staircase(Relay(port), pairs, [relay.pid], args, rng)
        finally:
            relay.terminate()
            relay.wait(timeout=10)
    return report


class _Skip(Exception):
    """Only the baseline was asked for."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--start-rate", type=float, default=100)
    parser.add_argument("--baseline-start-rate", type=float, default=25)
    parser.add_argument("--step-factor", type=float, default=1.3)
    parser.add_argument("--max-rate", type=float, default=20000)
    parser.add_argument("--step-seconds", type=float, default=6)
    parser.add_argument("--half-seconds", type=float, default=15)
    parser.add_argument("--drain-seconds", type=float, default=20)
    parser.add_argument("--idle-sockets", type=int, default=10000)
    parser.add_argument(
        "--restart-sockets",
        type=int,
        default=0,
        help="sockets open while the server restarts; all come back and sync (e.g. 10000)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="messages already stored before the load (bench/prefill.py), e.g. 10000000",
    )
    parser.add_argument("--prefill-conversations", type=int, default=10_000)
    parser.add_argument("--overload-seconds", type=float, default=60)
    parser.add_argument(
        "--server", choices=SERVERS, default="uvicorn", help="what serves our portal"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes sharing the port"
    )
    parser.add_argument("--only", choices=("confide", "baseline"), default=None)
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy the server in the first step, into DIR"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    # The generator shares the cores with what it measures, so it runs as the server does:
    # on uvloop, and with full garbage collections as seldom (portal/asgi.py), each of which
    # walks every object of every socket held open.
    gc.set_threshold(*gc.get_threshold()[:2], 100)
    report = uvloop.run(main_async(args))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"{stamp}.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report) if "confide" in report and "baseline" in report else ""
    (args.out / f"{stamp}.md").write_text(text)
    (args.out / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
