"""How ``confide serve`` runs the portal: which ASGI server, and how many processes.

``CONFIDE_SERVER`` names the server: ``uvicorn`` (the default) or ``daphne``.
``CONFIDE_SERVER_PROCESSES`` says how many server processes share the port (the kernel
hands each new connection to one of them); by default one per core when the portal has
Redis, which carries events between processes, and one without it (the embedded default,
whose in-memory channel layer reaches only its own process). docs/operations.md says which
to choose; docs/performance.md gives both servers' figures.

uvicorn is the default: about a third of Daphne's CPU per message, and a websocket
``send`` that waits while the client's socket buffer is full, so that a client that stops
reading holds a bounded amount of server memory. Daphne has no such backpressure: what a
silent client does not read waits in the server's memory (the channel layer's per-socket
queue, ``capacity`` and ``max_bytes``, bounds what waits before the socket is reset).

Several uvicorn processes are uvicorn's own supervisor (it restarts a process that dies).
Several Daphne processes are started here, each on the listening socket this process
bound (``daphne --fd``), and started again if one ends; they end with this process, even
when it is killed (the kernel kills them then: ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

__all__ = ["SERVERS", "process_count", "run", "uvicorn_options"]

SERVERS = ("uvicorn", "daphne")
APPLICATION = "portal.asgi:application"
_PR_SET_PDEATHSIG = 1
# A Daphne process that ends sooner than this after its start ends the whole server.
_MIN_LIFE_SECONDS = 5.0

log = logging.getLogger(__name__)


def process_count(configured: int | None, has_redis: bool) -> int:
    """The number of server processes: ``configured`` (CONFIDE_SERVER_PROCESSES) when set,
    else one per core with Redis and one without. More than one without Redis is refused:
    each process would hear only its own sockets' events."""
    if configured is None:
        return max(1, os.cpu_count() or 1) if has_redis else 1
    if configured > 1 and not has_redis:
        raise SystemExit(
            "CONFIDE_SERVER_PROCESSES is above 1 but REDIS_URL is not set: server processes"
            " pass events to each other through Redis (docs/operations.md)."
        )
    return configured


def max_frame_bytes() -> int:
    return int(os.environ.get("CONFIDE_MAX_FRAME_BYTES", str(256 * 1024)))


def uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """How uvicorn runs the portal. Compression is off: ciphertext does not compress, and
    permessage-deflate costs memory per socket."""
    return {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        # Frames up to four times the protocol's limit reach the consumer, which answers
        # frame_too_large (docs/protocol.md); larger ones are refused by the server itself.
        "ws_max_size": 4 * max_frame_bytes(),
        "lifespan": "off",
        # The forwarded headers are read inside the application (portal/asgi.py), after
        # the request log has seen the real peer; uvicorn itself trusts none of them.
        "proxy_headers": False,
        "server_header": False,
        # Django's LOGGING (portal/logs.py) formats uvicorn's lines too, and RequestLog
        # writes one per request with its request id instead of uvicorn's access line.
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 5,
    }


def run(server: str, host: str, port: int, processes: int) -> None:
    """Serves until told to stop (SIGTERM or SIGINT)."""
    if server == "daphne":
        _run_daphne(host, port, processes)
        return
    import uvicorn

    several: dict[str, Any] = {"workers": processes} if processes > 1 else {}
    uvicorn.run(APPLICATION, **several, **uvicorn_options(host, port))


def _daphne_command(fd: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "daphne",
        "--fd",
        str(fd),
        "--websocket-max-message-size",
        str(4 * max_frame_bytes()),
        "--application-close-timeout",
        "5",
        "--verbosity",
        "0",
        APPLICATION,
    ]


def _end_with_parent() -> None:
    """In a Daphne process, before it runs: the kernel kills it when this process ends
    without stopping it (this process was killed: its server goes as a whole)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _run_daphne(host: str, port: int, processes: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=2048)
    listener.set_inheritable(True)
    fd = listener.fileno()
    bound = listener.getsockname()
    log.info(
        "Daphne serving on http://%s:%d with %d process%s",
        bound[0],
        bound[1],
        processes,
        "" if processes == 1 else "es",
    )
    stopping = False

    def start() -> tuple[subprocess.Popen[bytes], float]:
        # The command is this interpreter and fixed arguments, nothing from a request.
        child = subprocess.Popen(  # noqa: S603
            _daphne_command(fd),
            pass_fds=(fd,),
            preexec_fn=_end_with_parent,  # noqa: PLW1509 - only prctl, before exec
            stdin=subprocess.DEVNULL,
        )
        return child, time.monotonic()

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [start() for _ in range(processes)]
    try:
        while not stopping:
            time.sleep(0.2)
            for index, (child, started) in enumerate(children):
                if child.poll() is None or stopping:
                    continue
                if time.monotonic() - started < _MIN_LIFE_SECONDS:
                    # Ending as it starts is a fault of the set-up, not of one process.
                    raise SystemExit(f"a Daphne process ended at start ({child.returncode})")
                log.warning("a Daphne process ended (%s); starting another", child.returncode)
                children[index] = start()
    finally:
        for child, _ in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child, _ in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        listener.close()
