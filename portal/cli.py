"""The `confide` command: Django's management commands with this project's settings.

confide migrate
confide seed_demo
confide serve            # the portal on 127.0.0.1:8000 (uvicorn or Daphne), and the job worker
confide db_worker        # a job worker on its own (with CONFIDE_WORKER=false on servers)
confide --help           # every command of the project's, with a line on each
"""

from __future__ import annotations

import os
import sys

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
        f"  {'':<{width}}CONFIDE_HOST and CONFIDE_PORT say where (127.0.0.1:8000),",
        f"  {'':<{width}}CONFIDE_SERVER (uvicorn, daphne) and CONFIDE_SERVER_PROCESSES how.",
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
    """Runs the project's ASGI application: host and port, the server and its number of
    processes from the environment (portal/serving.py, docs/operations.md)."""
    if extra:
        raise SystemExit("confide serve takes no arguments; see docs/operations.md")
    import django

    django.setup()
    from django.conf import settings

    from portal import serving
    from portal.worker import start_worker

    processes = serving.process_count(settings.CONFIDE_SERVER_PROCESSES, bool(settings.REDIS_URL))
    announce_generation()
    start_worker()
    serving.run(
        settings.CONFIDE_SERVER,
        os.environ.get("CONFIDE_HOST", "127.0.0.1"),
        int(os.environ.get("CONFIDE_PORT", "8000")),
        processes,
    )


if __name__ == "__main__":
    main()
