"""Through the whole ASGI application, as uvicorn runs it: a part of a whole mebibyte
passes the body limit that holds every other request to 64 KiB, and a download is streamed
in pieces, part after part, rather than read whole into memory first."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async

from crypto.attachment import attachment_ciphertext_size, attachment_digest
from messaging.parts import READ_BYTES
from messaging.services.attachments import complete_upload, start_upload
from portal.asgi import application
from protocol.limits import ATTACHMENT_PART_BYTES
from tests.personas import Person, Practice5

# Any 32 letters: the CSRF cookie and header the page would send (they must match).
CSRF = "abcdefghijklmnopqrstuvwxyzABCDEF"


async def scope(person: Person, method: str, path: str, **headers: str) -> dict[str, Any]:
    session = await database_sync_to_async(person.session_cookie)()
    cookie = f"sessionid={session}; csrftoken={CSRF}"
    # Over https, as behind the TLS proxy (the production settings redirect plain http): a
    # request of the portal's own page carries its origin.
    sent = [
        (b"host", b"127.0.0.1"),
        (b"origin", b"https://127.0.0.1"),
        (b"cookie", cookie.encode()),
    ]
    sent += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {
        "type": "http",
        "http_version": "1.1",
        "scheme": "https",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": sent,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def exchange(
    to: dict[str, Any], body: bytes = b""
) -> tuple[int, dict[str, str], list[bytes]]:
    """The answer's status, headers and each piece of its body as the application sent it."""
    # asgiref's testing helpers are untyped.
    communicator: Any = ApplicationCommunicator(application, to)  # type: ignore[no-untyped-call]
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=10)
    pieces = []
    while True:
        message = await communicator.receive_output(timeout=10)
        pieces.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    await communicator.wait(timeout=10)
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, pieces


async def test_a_whole_mebibyte_part_is_stored_and_streamed_back(
    world: Practice5, attachment_folder: Path
) -> None:
    size = attachment_ciphertext_size(ATTACHMENT_PART_BYTES)  # a full part and a bit more
    stream = os.urandom(size)
    upload = await database_sync_to_async(start_upload)(world.client.user, world.chat.id, size)
    attachment_id = upload.attachment.pk
    parts = [stream[:ATTACHMENT_PART_BYTES], stream[ATTACHMENT_PART_BYTES:]]
    assert len(parts[0]) == ATTACHMENT_PART_BYTES

    for number, data in enumerate(parts):
        status, _, body = await exchange(
            await scope(
                world.client,
                "PUT",
                f"/api/attachments/{attachment_id}/parts/{number}",
                content_type="application/octet-stream",
                content_length=str(len(data)),
                x_csrftoken=CSRF,
            ),
            data,
        )
        assert status == 200, body
    assert (attachment_folder / str(attachment_id) / "0").read_bytes() == parts[0]
    digest = attachment_digest(stream)
    await database_sync_to_async(complete_upload)(world.client.user, attachment_id, digest)

    status, headers, pieces = await exchange(
        await scope(world.therapist, "GET", f"/api/attachments/{attachment_id}/content")
    )

    assert status == 200
    assert headers["content-length"] == str(size)
    assert headers["cache-control"] == "no-store"
    assert b"".join(pieces) == stream
    # Streamed: the first part alone came in several pieces of at most READ_BYTES.
    assert max(len(piece) for piece in pieces) <= READ_BYTES
    assert len([piece for piece in pieces if piece]) >= ATTACHMENT_PART_BYTES // READ_BYTES


async def test_a_part_over_a_mebibyte_is_refused_before_django_reads_it(
    world: Practice5, attachment_folder: Path
) -> None:
    size = attachment_ciphertext_size(2 * ATTACHMENT_PART_BYTES)
    upload = await database_sync_to_async(start_upload)(world.client.user, world.chat.id, size)

    status, _, body = await exchange(
        await scope(
            world.client,
            "PUT",
            f"/api/attachments/{upload.attachment.pk}/parts/0",
            content_type="application/octet-stream",
            content_length=str(ATTACHMENT_PART_BYTES + 1),
            x_csrftoken=CSRF,
        ),
        bytes(ATTACHMENT_PART_BYTES + 1),
    )

    assert status == 413
    assert json.loads(b"".join(body))["error"]["code"] == "body_too_large"
    assert not (attachment_folder / str(upload.attachment.pk)).exists()
