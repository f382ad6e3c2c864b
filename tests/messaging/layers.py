"""Helpers of the channel-layer tests: readers of a layer's channels and bounded waits on
them and on Redis subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import redis.asyncio as redis

from messaging.layer import RESET, FanoutChannelLayer
from tests.waiting import WAIT, until


class Reader:
    """Reads one channel of a layer in a task of its own, as a consumer does, keeping
    every event it receives."""

    def __init__(self, layer: FanoutChannelLayer, channel: str) -> None:
        self.layer = layer
        self.channel = channel
        self.events: list[dict[str, Any]] = []
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            self.events.append(await self.layer.receive(self.channel))

    async def at_least(self, count: int, timeout: float = WAIT) -> list[dict[str, Any]]:
        await until(lambda: len(self.events) >= count, timeout)
        return self.events

    async def settled(self, quiet: float = 0.15, timeout: float = WAIT) -> list[dict[str, Any]]:
        """The events once none has arrived for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        seen = -1
        while seen != len(self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"events kept arriving for {timeout} s")
            seen = len(self.events)
            await asyncio.sleep(quiet)
        return self.events

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def resets(events: list[dict[str, Any]]) -> int:
    return sum(1 for event in events if event == RESET)


async def subscribers(url: str, topic: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        counts = await client.pubsub_numsub(topic)
        return int(counts[0][1])
    finally:
        await client.aclose()


async def until_subscribed(url: str, topic: str, count: int, timeout: float = WAIT) -> None:
    """Waits until ``count`` connections subscribe to ``topic`` (a publication made
    earlier would reach nobody: Redis keeps none)."""
    deadline = time.monotonic() + timeout
    while (seen := await subscribers(url, topic)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{seen} subscribers of {topic} after {timeout} s")
        await asyncio.sleep(0.05)
