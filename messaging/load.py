"""How far behind the event loop runs: the server's measure of its own overload.

When the process's one event loop has more work than it can do, frames wait in socket
buffers and every reply is late; nothing queues where a limit could see it. A task per loop
wakes every ``INTERVAL`` seconds and records how late it woke; ``lag()`` is the largest
lateness of the last few wake-ups. ``services.submit_message`` refuses new messages with
``overloaded`` while it is above ``CONFIDE_MAX_LOOP_LAG_MS``, so that under overload senders
are told to come back instead of waiting without an answer.
"""

from __future__ import annotations

import asyncio
import collections
import time
import weakref

INTERVAL = 0.05
_WINDOW = 10  # wake-ups remembered: half a second

_monitors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Monitor] = (
    weakref.WeakKeyDictionary()
)


class _Monitor:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.recent: collections.deque[float] = collections.deque([0.0], maxlen=_WINDOW)
        self.task = loop.create_task(self._run(), name="confide-loop-lag")

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(INTERVAL)
            self.recent.append(max(0.0, time.monotonic() - started - INTERVAL))


def lag() -> float:
    """Seconds: how late the running loop has recently run its timers."""
    loop = asyncio.get_running_loop()
    monitor = _monitors.get(loop)
    if monitor is None:
        monitor = _monitors[loop] = _Monitor(loop)
    return max(monitor.recent)
