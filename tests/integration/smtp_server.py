"""A real SMTP server for the notification tests, as a process of its own on 127.0.0.1
(aiosmtpd): each message it takes is written whole to a file in ``--dir``; with
``--refuse N`` it answers the first N messages ``451`` (try again later), as a server
that is busy or down for a moment does.

    python -m tests.integration.smtp_server --port 2525 --dir /tmp/mail [--refuse 2]
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Keeper:
    """aiosmtpd's handler: refuses the first ``refuse`` messages, then keeps each one."""

    def __init__(self, folder: Path, refuse: int) -> None:
        self.folder = folder
        self.refuse = refuse
        self.seen = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        if self.seen <= self.refuse:
            (self.folder / f"refused-{self.seen}").write_bytes(b"")
            return "451 Requested action aborted: try again later"
        data: bytes = envelope.original_content or envelope.content
        recipients = ",".join(envelope.rcpt_tos).encode()
        (self.folder / f"{self.seen:04d}.eml").write_bytes(
            b"X-Rcpt: " + recipients + b"\r\n" + data
        )
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--refuse", type=int, default=0)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(Keeper(args.dir, args.refuse), hostname="127.0.0.1", port=args.port)
    controller.start()
    (args.dir / "ready").write_bytes(b"")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
