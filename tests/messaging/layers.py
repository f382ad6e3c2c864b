"""Helpers of the channel-layer tests: bounded waits on a layer's channels, and a private
redis-server on a free port of 127.0.0.1 that a test may kill and restart."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis

from messaging.layer import RESET, FanoutChannelLayer
from tests.conftest import running_in_ci

WAIT = 3.0  # seconds any one expected event may take


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


async def until(condition: Any, timeout: float = WAIT) -> None:
    """Waits until ``condition()`` is true, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {condition}")
        await asyncio.sleep(0.02)


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivateRedis:
    """``redis-server`` on 127.0.0.1:``port`` with nothing saved to disk; only this test's."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server is not installed: install Redis to run this test"
            if running_in_ci():
                pytest.fail(message)
            pytest.skip(message)
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as probe,
            ):
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: no goodbye to any client."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
