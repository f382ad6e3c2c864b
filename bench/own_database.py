"""A benchmark's measuring process on a PostgreSQL database of its own.

The benchmarks that time the server's code in-process (bench/listing_cost.py,
bench/commit_floor.py) run it in a child process: ``run_in_own_database`` makes a new
database beside the administrative URL's, runs ``<script> --child`` with that database as
its DATABASE_URL and the request as JSON on stdin, and drops the database after, however
the child ended. The child calls ``child_request`` first: Django set up, the database
migrated, the request read. Its last line of output is its JSON answer.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def run_in_own_database(script: str, admin_url: str, prefix: str, request: Any) -> Any:
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            **os.environ,
            "DATABASE_URL": urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}")),
            "SECRET_KEY": os.environ.get("SECRET_KEY", secrets.token_urlsafe(50)),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
        env.pop("REDIS_URL", None)
        done = subprocess.run(
            [sys.executable, script, "--child"],
            input=json.dumps(request),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_request() -> Any:
    """In the child: Django set up, its database migrated, and the request it was given."""
    import django

    django.setup()
    from django.core.management import call_command

    request = json.loads(sys.stdin.read())
    call_command("migrate", verbosity=0)
    # What is measured runs on a session begun after the migrations, as a server's are
    # (portal 0002 sets the database's own settings for new sessions).
    from django.db import connection

    connection.close()
    return request
