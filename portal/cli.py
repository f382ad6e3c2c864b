"""The `confide` command: Django's management commands with this project's settings.

confide migrate
confide seed_demo
confide serve            # the portal on 127.0.0.1:8000 (uvicorn), and the job worker
confide db_worker        # a job worker on its own (with CONFIDE_WORKER=false on servers)
confide --help           # every command of the project's, with a line on each
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Django's commands an operator uses, in the order of docs/operations.md; the project's own
# are found in its apps. ``confide help --commands`` lists every one.
_DJANGO_COMMANDS = {
    "migrate": "Brings the database's tables up to this version (run before serving).",
    "check": "Checks the settings; with --deploy, those a production server needs.",
    "collectstatic": "Copies the web client's files into CONFIDE_DATA_DIR/static (optional).",
    "db_worker": "Runs the job worker on its own (with CONFIDE_WORKER=false on the servers).",
    "shell": "A Python shell with the portal's settings and models.",
}
_OWN_APPS = ("audit", "accounts", "messaging", "frontend", "portal")
_HELP_ARGS: tuple[list[str], ...] = ([], ["-h"], ["--help"], ["help"])


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    args = list(sys.argv if argv is None else argv)
    private_files()
    if args[1:] in _HELP_ARGS:
        print(usage())
        return
    if len(args) > 1 and args[1] == "serve":
        serve(args[2:])
        return
    from django.core.management import execute_from_command_line

    if len(args) > 1 and args[1] == "db_worker":
        start_ticking()
    execute_from_command_line(args)


def start_ticking() -> None:
    """A worker on its own (``CONFIDE_WORKER=false`` on the servers) starts the periodic
    job too, as ``confide serve``'s worker does (portal/periodic.py)."""
    import django

    django.setup()
    from portal.periodic import ensure_ticking

    ensure_ticking()


def private_files() -> None:
    """Everything this process creates is its user's alone: the data directory 0700, the
    SQLite file, the secret key, push keys and mail 0600 (docs/operations.md)."""
    os.umask(0o077)


def usage() -> str:
    """``confide --help``: serve, Django's commands an operator needs, and the project's
    own, one line each (from each command's ``help``)."""
    import django
    from django.core.management import get_commands, load_command_class

    django.setup()
    own: dict[str, str] = {}
    for name, app in sorted(get_commands().items()):
        if app in _OWN_APPS:
            help_text = str(load_command_class(app, name).help).strip()
            own[name] = help_text.splitlines()[0] if help_text else ""
    width = max(len(name) for name in [*_DJANGO_COMMANDS, *own, "serve"]) + 2
    lines = [
        "usage: confide <command> [options]",
        "",
        "Running the portal:",
        f"  {'serve':<{width}}Serves the portal (uvicorn) and runs the job worker beside it;",
        f"  {'':<{width}}CONFIDE_HOST and CONFIDE_PORT say where (127.0.0.1:8000).",
    ]
    lines += [f"  {name:<{width}}{text}" for name, text in _DJANGO_COMMANDS.items()]
    lines += ["", "The portal's own:"]
    lines += [f"  {name:<{width}}{text}" for name, text in own.items()]
    lines += [
        "",
        "`confide help <command>` shows a command's options; `confide help --commands` lists",
        "every command, Django's included. Settings come from the environment",
        "(docs/operations.md).",
    ]
    return "\n".join(lines)


def server_options() -> dict[str, Any]:
    """How ``serve`` runs uvicorn, from the environment (docs/operations.md).

    uvicorn rather than Daphne: a third of the CPU per message, and a websocket ``send``
    that waits while the client's socket buffer is full, so a client that stops reading
    holds a bounded amount of server memory (docs/performance.md). Compression is off:
    ciphertext does not compress, and permessage-deflate costs memory per socket.
    """
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


def announce_generation() -> None:
    """Decides the database generation the sockets announce (a new one if the database
    was restored under the last: messaging/services/generations.py). A database that does
    not answer yet is asked again at the first socket."""
    import logging

    from django.db import DatabaseError

    from messaging.services.generations import ensure_current

    try:
        ensure_current()
    except DatabaseError as exc:
        logging.getLogger(__name__).warning(
            "the database generation is not known yet (%s)", type(exc).__name__
        )


def serve(extra: list[str]) -> None:
    """Runs the project's ASGI application (host and port from the environment)."""
    if extra:
        raise SystemExit("confide serve takes no arguments; see docs/operations.md")
    import django
    import uvicorn

    django.setup()
    from portal.worker import start_worker

    announce_generation()
    start_worker()
    uvicorn.run("portal.asgi:application", **server_options())


if __name__ == "__main__":
    main()
