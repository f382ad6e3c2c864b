"""Helpers of the attachment tests: files sealed as a client seals them, and an upload as
the portal's page makes it (begin, the parts, complete)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import crypto
from crypto.attachment import SealedAttachment, attachment_ciphertext_size, seal_attachment
from messaging.models import Attachment
from protocol.limits import ATTACHMENT_PART_BYTES
from tests.http.conftest import Browser, Reply
from tests.personas import Chat

PART = ATTACHMENT_PART_BYTES


@dataclass(frozen=True)
class Sealed:
    """A file sealed on a client: its stream and the digest its message names."""

    plaintext: bytes = field(repr=False)
    sealed: SealedAttachment = field(repr=False)

    @property
    def stream(self) -> bytes:
        return self.sealed.stream

    @property
    def digest(self) -> bytes:
        return self.sealed.reference(uuid.uuid4()).digest

    def parts(self) -> list[bytes]:
        """The stream cut as the server asks: ``PART`` bytes each, the rest last."""
        return [self.stream[i : i + PART] for i in range(0, len(self.stream), PART)]


def sealed_file(size: int) -> Sealed:
    """A file of ``size`` random bytes, sealed by a client."""
    plaintext = os.urandom(size)
    return Sealed(plaintext, seal_attachment(plaintext, "session-notes.pdf", "application/pdf"))


# A file of three parts: two whole and a short last one.
THREE_PARTS = 2 * PART + 1000


def stream_size(file_size: int) -> int:
    return attachment_ciphertext_size(file_size)


def begin(browser: Browser, chat: Chat | uuid.UUID, size: int) -> Reply:
    conversation = chat if isinstance(chat, uuid.UUID) else chat.id
    return browser.post(f"/api/conversations/{conversation}/attachments", {"size": size})


def begun(browser: Browser, chat: Chat, size: int) -> dict[str, Any]:
    """The attachment as the server answered its beginning (which must succeed)."""
    reply = begin(browser, chat, size)
    assert reply.status == 200, reply.content
    attachment: dict[str, Any] = reply.json()["attachment"]
    return attachment


def send_part(browser: Browser, attachment_id: str, number: int, data: bytes) -> Reply:
    return browser.put_bytes(f"/api/attachments/{attachment_id}/parts/{number}", data)


def complete(browser: Browser, attachment_id: str, digest: bytes) -> Reply:
    return browser.post(
        f"/api/attachments/{attachment_id}/complete", {"digest": crypto.b64encode(digest)}
    )


def state(browser: Browser, attachment_id: str) -> Reply:
    return browser.get(f"/api/attachments/{attachment_id}")


def content(browser: Browser, attachment_id: str, headers: dict[str, str] | None = None) -> Reply:
    return browser.get_with(f"/api/attachments/{attachment_id}/content", headers or {})


def uploaded(browser: Browser, chat: Chat, file: Sealed) -> str:
    """Uploads the whole file and completes it; returns the attachment's id."""
    attachment = begun(browser, chat, len(file.stream))
    for number, data in enumerate(file.parts()):
        reply = send_part(browser, attachment["id"], number, data)
        assert reply.status == 200, reply.content
    reply = complete(browser, attachment["id"], file.digest)
    assert reply.status == 200, reply.content
    return str(attachment["id"])


def on_disk(folder: Path, attachment_id: str | uuid.UUID) -> dict[int, bytes]:
    """The parts stored for the attachment, by number, as the storage's folder holds them."""
    where = folder / str(attachment_id)
    if not where.exists():
        return {}
    return {int(path.name): path.read_bytes() for path in where.iterdir()}


def nothing_stored(folder: Path) -> bool:
    """No attachment row, and no file in the storage's folder."""
    files = [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []
    return not Attachment.objects.exists() and not files
