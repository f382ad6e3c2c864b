"""The `confide` command: Django's management commands with this project's settings.

confide migrate
confide seed_demo
confide serve            # Daphne on 127.0.0.1:8000
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "serve":
        serve(args[2:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


def serve(extra: list[str]) -> None:
    """Runs Daphne on the project's ASGI application (host and port from the environment)."""
    from daphne.cli import CommandLineInterface

    host = os.environ.get("CONFIDE_HOST", "127.0.0.1")
    port = os.environ.get("CONFIDE_PORT", "8000")
    args = ["-b", host, "-p", port]
    if os.environ.get("CONFIDE_BEHIND_TLS_PROXY", "").lower() == "true":
        # Client addresses (sign-in rate limits) come from the proxy's X-Forwarded-For.
        args.append("--proxy-headers")
    CommandLineInterface().run([*args, *extra, "portal.asgi:application"])


if __name__ == "__main__":
    main()
