"""Attachment throughput: the same file up and down through the Python client, through
Chromium, and as plain HTTP of the same number of bytes, against one server in one run.

Run from the repository root (Debian's Chromium and the test extra installed)::

    .venv/bin/python bench/attachment_throughput.py [--size-mb 20] [--runs 3] [--no-browser]

Starts its own server on 127.0.0.1 (the embedded default: SQLite, the in-memory channel
layer, attachments in the data directory), makes a therapist and a client through the real
invitation flow, and times, for a file of ``--size-mb`` MB of random bytes:

- **Python client**: ``send_files`` (read, sealed with secretstream as it is read,
  uploaded in 1 MiB parts, completed, and the message sent and acknowledged), and the
  other member's ``save_attachment`` (downloaded, opened as it arrives, checked, written
  to a file and renamed);
- **Chromium**: the client picks the file in the composer and presses Send, timed until
  the message is acknowledged; the client downloads a file the therapist sent, timed from
  the click on Download until Chromium has saved it;
- **plain HTTP**: the same number of bytes as the file's encrypted stream, already made,
  uploaded as the same parts with the same session (``PUT`` each, then ``complete``) and
  downloaded (``GET .../content``, read to the end): what the transport and the server
  cost without the client's encryption.

MB/s are of the file's size (10^6 bytes). Each figure is the median of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402

import crypto  # noqa: E402
from confide_client import ConfideClient  # noqa: E402
from harness.servers import Stack, make_embedded_stack, new_email, new_password  # noqa: E402
from protocol.http import AttachmentAnswer, AttachmentCompleteRequest, AttachmentRequest  # noqa: E402

PART = 1024 * 1024


def _make_therapist(stack: Stack) -> tuple[str, str, str]:
    email, password = new_email("therapist"), new_password()
    request = [{"email": email, "display_name": "T", "practice": "P", "password": password}]
    [made] = json.loads(stack.manage("-m", "harness.make_account", stdin=json.dumps(request)))
    return email, password, made["totp_secret"]


async def _pair(url: str, stack: Stack) -> tuple[ConfideClient, ConfideClient, uuid.UUID, str, str]:
    email, password, totp = _make_therapist(stack)
    therapist = ConfideClient(url, backfill=False)
    await therapist.sign_in(email, password, second_factor=pyotp.TOTP(totp).now())
    invitation = await therapist.create_invitation("Bench")
    client_email, client_password = new_email("client"), new_password()
    client = ConfideClient(url, backfill=False)
    await client.accept_invitation(invitation.fragment, client_email, "Bench", client_password)
    await client.accept_agreement((await client.agreement()).version)
    await therapist.connect()
    await client.connect()
    return therapist, client, invitation.conversation, client_email, client_password


async def _next_with_files(reader: ConfideClient) -> Any:
    while True:
        message = await reader.next_message(120)
        if message.attachments:
            return message


async def _python_runs(
    therapist: ConfideClient, client: ConfideClient, conversation: uuid.UUID, file: Path, runs: int
) -> tuple[list[float], list[float]]:
    ups, downs = [], []
    with tempfile.TemporaryDirectory(prefix="confide-saved-") as saved:
        for _ in range(runs):
            started = time.perf_counter()
            await client.send_files(conversation, [file], timeout=300)
            ups.append(time.perf_counter() - started)
            message = await _next_with_files(therapist)
            started = time.perf_counter()
            path = await therapist.save_attachment(message.attachments[0], saved)
            downs.append(time.perf_counter() - started)
            path.unlink()
    return ups, downs


async def _plain_runs(
    client: ConfideClient, conversation: uuid.UUID, stream: bytes, runs: int
) -> tuple[list[float], list[float]]:
    """The same bytes as plain HTTP through the client's own session: the attachment
    endpoints with the encryption already done (the bench's one use of the client's
    transport, ``_http``)."""
    http = client._http  # noqa: SLF001
    digest = crypto.attachment_digest(stream)
    ups, downs = [], []
    for _ in range(runs):
        started = time.perf_counter()
        begun = await http.post(
            f"/api/conversations/{conversation}/attachments",
            AttachmentRequest(size=len(stream)),
            AttachmentAnswer,
        )
        attachment = begun.attachment
        for number in range(attachment.parts):
            await http.put_bytes(
                f"/api/attachments/{attachment.id}/parts/{number}",
                stream[number * PART : (number + 1) * PART],
                AttachmentAnswer,
            )
        await http.post(
            f"/api/attachments/{attachment.id}/complete",
            AttachmentCompleteRequest(digest=crypto.b64encode(digest)),
            AttachmentAnswer,
        )
        ups.append(time.perf_counter() - started)
        started = time.perf_counter()
        received = 0
        async with http.download(f"/api/attachments/{attachment.id}/content") as download:
            async for piece in download.pieces():
                received += len(piece)
        downs.append(time.perf_counter() - started)
        assert received == len(stream), (received, len(stream))
    return ups, downs


def _browser_runs(
    url: str, email: str, password: str, file: Path, runs: int, send_to_client: Any
) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    from harness.browser import CHROMIUM, CHROMIUM_ARGS

    ups, downs = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, accept_downloads=True
        )
        page = context.new_page()
        page.goto(url + "/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.locator(".conversation:visible").first.wait_for(timeout=60_000)
        for run in range(runs):
            named = file.with_name(f"upload-{run}{file.suffix}")
            named.write_bytes(file.read_bytes())
            page.get_by_label("Attach files").set_input_files(str(named))
            started = time.perf_counter()
            page.get_by_role("button", name="Send").click()
            sent = page.locator(".message.mine", has_text=named.name)
            sent.and_(page.locator("[data-state=sent], [data-state=read]")).wait_for(
                timeout=300_000
            )
            ups.append(time.perf_counter() - started)
            named.unlink()

            name = f"download-{run}{file.suffix}"
            send_to_client(name)
            button = page.get_by_role("button", name=f"Download {name}")
            button.wait_for(timeout=120_000)
            started = time.perf_counter()
            with page.expect_download(timeout=300_000) as info:
                button.click()
            download = info.value
            download.path()  # waits until Chromium has written the whole file
            downs.append(time.perf_counter() - started)
            download.delete()
        context.close()
        browser.close()
    return ups, downs


def _row(name: str, size: int, ups: list[float], downs: list[float]) -> dict[str, Any]:
    up, down = statistics.median(ups), statistics.median(downs)
    return {
        "path": name,
        "upload_s": round(up, 2),
        "upload_mb_s": round(size / up / 1e6, 1),
        "download_s": round(down, 2),
        "download_mb_s": round(size / down / 1e6, 1),
        "runs": len(ups),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    size = int(args.size_mb * 1e6)
    rows = []
    with tempfile.TemporaryDirectory(prefix="confide-attach-bench-") as tmp:
        stack = make_embedded_stack(Path(tmp) / "data")
        server = stack.start_server()
        file = Path(tmp) / "file.bin"
        file.write_bytes(os.urandom(size))
        sealed = crypto.seal_attachment(file.read_bytes(), "file.bin", "application/octet-stream")
        # The Python clients live on a loop of their own thread, so that their sockets are
        # served while Chromium runs in this one.
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        def run(coroutine: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

        clients: list[ConfideClient] = []
        try:
            therapist, client, conversation, email, password = run(_pair(server.url, stack))
            clients += [therapist, client]
            ups, downs = run(_python_runs(therapist, client, conversation, file, args.runs))
            rows.append(_row("Python client", size, ups, downs))
            ups, downs = run(_plain_runs(client, conversation, sealed.stream, args.runs))
            rows.append(_row("plain HTTP, same bytes", size, ups, downs))
            if not args.no_browser:

                def send_to_client(name: str) -> None:
                    named = file.with_name(name)
                    named.write_bytes(file.read_bytes())
                    run(therapist.send_files(conversation, [named], timeout=300))
                    named.unlink()

                ups, downs = _browser_runs(
                    server.url, email, password, file, args.runs, send_to_client
                )
                rows.append(_row("Chromium", size, ups, downs))
        finally:
            for made in clients:
                run(made.close())
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            stack.stop_servers()
    print(
        json.dumps(
            {
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "size_bytes": size,
                "rows": rows,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
