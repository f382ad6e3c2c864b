"""A process whose event loop runs late (messaging/load.py) refuses new messages at once
with ``overloaded`` and a time to come back, instead of queueing them behind the work it
cannot keep up with; once the loop is on time again it takes them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from messaging import load
from messaging.services.messages import Admission
from protocol.errors import OverloadedError


async def test_a_loop_running_late_refuses_and_one_on_time_admits(settings: Any) -> None:
    settings.CONFIDE_MAX_SENDS_PER_SECOND = 0
    settings.CONFIDE_MAX_LOOP_LAG_MS = 250
    admission = Admission()
    load.lag()  # the loop's monitor starts
    await asyncio.sleep(load.INTERVAL * 2)
    admission.check()  # on time

    time.sleep(0.6)  # noqa: ASYNC251 - the loop held up, as by too much work
    await asyncio.sleep(load.INTERVAL * 2)
    with pytest.raises(OverloadedError) as refused:
        admission.check()
    assert refused.value.data["retry_after_ms"] == 1000

    # The lateness is forgotten after the monitor's window of wake-ups.
    await asyncio.sleep(load.INTERVAL * 20)
    admission.check()
