"""Django's PostgreSQL backend, with a health check that a websocket's database hops do
not run again within a second.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first query of every
request. Channels ends a "request" around every ``database_sync_to_async`` call, so every
hop of a socket to the database thread paid a round trip of its own before its real
queries: 15% of a websocket connect's samples in a profile of 6,000 connects
(docs/performance.md, "Connections"). Inside a socket's hops (:func:`socket_hops`, which
portal/asgi.py wraps around every websocket) a connection that was checked, or opened,
less than ``CHECKED_FOR`` seconds ago is taken as alive. When the database is quiet every
hop is checked as before; under a reconnect storm one check a second does for all of
them. Everything else (HTTP views, the job worker, commands) keeps Django's check.

What this gives up: a socket's hop in the second after a check, on a connection the
server dropped in that second, fails instead of reconnecting first. Its error marks the
connection, which Django closes before the next hop; a frame's call answers
``unavailable`` (the client resends), and a handshake's session read fails the handshake
(the client connects again).
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Any

from django.db.backends.postgresql import base

# Seconds for which a check (or a new connection) vouches for a connection.
CHECKED_FOR = 1.0

_in_socket_hops: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "confide_socket_hops", default=False
)


@contextlib.contextmanager
def socket_hops() -> Iterator[None]:
    """Within it, and in every database call made from it (asgiref copies the context
    into the database thread), the health check runs at most once a second."""
    token = _in_socket_hops.set(True)
    try:
        yield
    finally:
        _in_socket_hops.reset(token)


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's wrapper; only the health check's frequency differs, in a socket's hops."""

    health_check_done: bool  # Django's own, set by the base class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checked_at = float("-inf")

    def connect(self) -> None:
        super().connect()
        self.checked_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        if self.connection is None or self.health_check_done:
            return
        now = time.monotonic()
        if _in_socket_hops.get() and now - self.checked_at < CHECKED_FOR:
            # Vouched for: this hop's later queries skip the check too, as Django's do.
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
        if self.connection is not None and self.health_check_done:
            self.checked_at = now  # a check ran, and the connection passed it
