"""Django's PostgreSQL backend, with a health check that is not run again within a second.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first query of every
request. Channels ends a "request" around every ``database_sync_to_async`` call, so every
hop to the database thread paid a round trip of its own before its real queries: 15% of a
websocket connect's samples in a profile of 6,000 connects (docs/performance.md,
"Connections"). Here a connection that was checked, or opened, less than
``CHECKED_FOR`` seconds ago is taken as alive. When the database is quiet every hop is
checked as before; under a reconnect storm one check a second does for all of them.

What this gives up: a query in the second after a check that passed, on a connection the
server dropped in that second, fails instead of reconnecting first. Its error marks the
connection, which Django closes before the next hop; the caller sees ``unavailable`` and
resends, as for any other lost database.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.backends.postgresql import base

# Seconds for which a check (or a new connection) vouches for a connection.
CHECKED_FOR = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's wrapper; only the health check's frequency differs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checked_at = float("-inf")

    def connect(self) -> None:
        super().connect()
        self.checked_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        now = time.monotonic()
        if self.connection is not None and now - self.checked_at < CHECKED_FOR:
            # Vouched for: this hop's later queries skip the check too, as Django's do.
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
        if self.connection is not None:
            self.checked_at = now
