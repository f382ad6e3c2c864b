"""Starts the push service process of ``tests.integration.push_server`` on a free port of
127.0.0.1, reads what it received, and subscribes a signed-in person there through the
portal's API, as a browser does."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from confide_client import ConfideClient
from harness.private_services import stop_process
from protocol.http import OkAnswer, PushSettings, PushSubscribeRequest
from tests.integration.smtp import ROOT, free_port


@dataclass
class PushService:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @classmethod
    def start(cls, folder: Path, server_key: str) -> PushService:
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.push_server",
                "--port",
                str(port),
                "--dir",
                str(folder),
                "--server-key",
                server_key,
            ],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while not (folder / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the push service did not start")
            time.sleep(0.05)
        return cls(process, port, folder)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_subscription(self, name: str) -> dict[str, Any]:
        """A browser's subscription here, its private keys kept by the service."""
        answer: dict[str, Any] = httpx.get(f"{self.origin}/subscribe/{name}").json()
        return answer

    def answer_next(self, name: str, *statuses: int) -> None:
        """The subscription's next notices get these statuses, one each."""
        httpx.put(f"{self.origin}/answers/{name}", content=",".join(map(str, statuses)))

    def received(self, name: str | None = None) -> list[dict[str, Any]]:
        records = [json.loads(p.read_text()) for p in sorted(self.folder.glob("*.json"))]
        return [r for r in records if name is None or r["name"] == name]

    def wait_for(self, name: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received(name)) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.received(name)

    def stop(self) -> None:
        stop_process(self.process)


async def server_key(client: ConfideClient) -> str:
    """The portal's VAPID public key, as a signed-in browser reads it."""
    settings = await client._http.get("/api/me/push", PushSettings)
    assert settings.public_key is not None, "this server sends no push"
    return settings.public_key


async def subscribe(client: ConfideClient, subscription: dict[str, Any]) -> None:
    body = PushSubscribeRequest.model_validate(subscription)
    await client._http.post("/api/me/push/subscribe", body, OkAnswer)


async def subscriptions(client: ConfideClient) -> int:
    return (await client._http.get("/api/me/push", PushSettings)).subscriptions
