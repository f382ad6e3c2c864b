"""The `confide` command: Django's management commands with this project's settings.

confide migrate
confide seed_demo
confide serve            # the portal on 127.0.0.1:8000 (uvicorn), and the job worker
confide db_worker        # a job worker on its own (with CONFIDE_WORKER=false on servers)
"""

from __future__ import annotations

import os
import sys
from typing import Any


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "serve":
        serve(args[2:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


def server_options() -> dict[str, Any]:
    """How ``serve`` runs uvicorn, from the environment (docs/operations.md).

    uvicorn rather than Daphne: a third of the CPU per message, and a websocket ``send``
    that waits while the client's socket buffer is full, so a client that stops reading
    holds a bounded amount of server memory (docs/performance.md). Compression is off:
    ciphertext does not compress, and permessage-deflate costs memory per socket.
    """
    behind_proxy = os.environ.get("CONFIDE_BEHIND_TLS_PROXY", "").lower() == "true"
    max_frame = int(os.environ.get("CONFIDE_MAX_FRAME_BYTES", str(256 * 1024)))
    return {
        "host": os.environ.get("CONFIDE_HOST", "127.0.0.1"),
        "port": int(os.environ.get("CONFIDE_PORT", "8000")),
        "loop": "uvloop",
        "http": "httptools",
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        # Frames up to four times the protocol's limit reach the consumer, which answers
        # frame_too_large (docs/protocol.md); larger ones are refused by the server itself.
        "ws_max_size": 4 * max_frame,
        "lifespan": "off",
        # Client addresses (sign-in rate limits) come from X-Forwarded-For only behind the
        # documented proxy; otherwise no header is trusted, not even from 127.0.0.1.
        "proxy_headers": behind_proxy,
        "forwarded_allow_ips": os.environ.get("CONFIDE_FORWARDED_ALLOW_IPS", "127.0.0.1")
        if behind_proxy
        else "",
        "server_header": False,
        "timeout_graceful_shutdown": 5,
    }


def serve(extra: list[str]) -> None:
    """Runs the project's ASGI application (host and port from the environment)."""
    if extra:
        raise SystemExit("confide serve takes no arguments; see docs/operations.md")
    import django
    import uvicorn

    django.setup()
    from portal.worker import start_worker

    start_worker()
    uvicorn.run("portal.asgi:application", **server_options())


if __name__ == "__main__":
    main()
