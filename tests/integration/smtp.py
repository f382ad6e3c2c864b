"""Starts the SMTP server process of ``tests.integration.smtp_server`` on a free port of
127.0.0.1 and reads what it kept; and the server settings that send to it."""

from __future__ import annotations

import email
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from harness.private_services import stop_process

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class SmtpServer:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @classmethod
    def start(cls, folder: Path, *, refuse: int = 0, port: int | None = None) -> SmtpServer:
        port = port or free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.smtp_server",
                "--port",
                str(port),
                "--dir",
                str(folder),
                "--refuse",
                str(refuse),
            ],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while not (folder / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the SMTP server did not start")
            time.sleep(0.05)
        return cls(process, port, folder)

    def settings(self, after_seconds: int = 1) -> dict[str, str]:
        """What a server needs to send its notifications here, soon."""
        return {
            "CONFIDE_SMTP_HOST": "127.0.0.1",
            "CONFIDE_SMTP_PORT": str(self.port),
            "CONFIDE_SMTP_STARTTLS": "false",
            "CONFIDE_SMTP_TIMEOUT_SECONDS": "5",
            "CONFIDE_NOTIFY_AFTER_SECONDS": str(after_seconds),
            "CONFIDE_NOTIFY_RETRY_SECONDS": "1",
            "CONFIDE_WORKER_INTERVAL_SECONDS": "0.2",
        }

    def messages(self) -> list[Message]:
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(self.folder.glob("*.eml"))]

    def refused(self) -> int:
        return len(list(self.folder.glob("refused-*")))

    def wait_for(self, count: int, timeout: float = 30) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages()

    def stop(self) -> None:
        stop_process(self.process)
