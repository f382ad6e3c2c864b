"""A real Confide server for the browser tests: ``confide migrate``, ``confide seed_demo``
and ``confide serve`` as subprocesses on 127.0.0.1, on the stack the environment names
(``harness.servers.make_stack``: SQLite in a temporary CONFIDE_DATA_DIR, or, when
DATABASE_URL and REDIS_URL are set as in CI, a PostgreSQL database of this test session,
dropped afterwards, with a Redis key prefix of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.servers import LiveServer, Stack, drop_stack, make_stack
from tests import authenticator
from tests.personas import LivePersona, demo_personas, give_passkeys


@dataclass
class Server:
    """One server process on its own stack, and the demo people seeded on it."""

    stack: Stack
    process: LiveServer | None = None
    demo: dict[str, LivePersona] = field(default_factory=dict)

    @property
    def url(self) -> str:
        if self.process is None:
            raise RuntimeError("The server is not started")
        return self.process.url

    def start(self) -> None:
        demo = give_passkeys(
            self.stack, list(demo_personas(self.stack.manage("seed_demo")).values())
        )
        self.demo.update({persona.role: persona for persona in demo})
        self.process = self.stack.start_server()
        # The demo therapist's and admin's second factors: the authenticator app's codes
        # for the pages signing in, the passkey for the Python clients beside them.
        for persona in demo:
            if persona.totp_secret is not None:
                authenticator.register(
                    self.url, persona.email, persona.totp_secret, passkey=persona.passkey
                )

    def stop(self) -> None:
        drop_stack(self.stack)

    def execute(self, statement: str, *params: object) -> None:
        """One SQL statement on the server's database (``Stack.execute``)."""
        self.stack.execute(statement, *params)

    def database_dump(self) -> bytes:
        return self.stack.database_dump()


def make_server(data_dir: Path, settings: dict[str, str] | None = None) -> Server:
    """A server on the stack the environment names, with ``settings`` (``CONFIDE_*``
    variables) on top."""
    return Server(make_stack(data_dir, settings))
