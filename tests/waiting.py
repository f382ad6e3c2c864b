"""Bounded waits shared by every layer of the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

WAIT = 3.0  # seconds any one expected event may take


async def until(condition: Callable[[], object], timeout: float = WAIT) -> None:
    """Waits until ``condition()`` is true, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {condition}")
        await asyncio.sleep(0.02)
