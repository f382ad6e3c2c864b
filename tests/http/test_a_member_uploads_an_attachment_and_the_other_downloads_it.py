"""Clara uploads an encrypted file in parts; what the server keeps is exactly the stream she
sent, and Theo downloads that stream whole and opens it with the reference her message
would carry."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import crypto
from crypto.attachment import open_attachment
from messaging.models import Attachment, AttachmentPart
from tests.http.attachments import (
    PART,
    THREE_PARTS,
    begun,
    complete,
    content,
    on_disk,
    sealed_file,
    send_part,
    state,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_the_stored_bytes_are_exactly_the_stream_sent(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)

    attachment = begun(clara, world.chat, len(file.stream))
    assert attachment["size"] == len(file.stream)
    assert (attachment["part_size"], attachment["parts"]) == (PART, 3)
    assert attachment["stored"] == [] and attachment["complete"] is False
    assert attachment["uploader"] == world.client.id
    for number, data in enumerate(file.parts()):
        reply = send_part(clara, attachment["id"], number, data)
        assert reply.status == 200, reply.content
        assert reply.json()["attachment"]["stored"] == list(range(number + 1))
    done = complete(clara, attachment["id"], file.digest)

    assert done.status == 200, done.content
    assert done.json()["attachment"]["complete"] is True
    stored = on_disk(attachment_folder, attachment["id"])
    assert b"".join(stored[n] for n in sorted(stored)) == file.stream
    assert [len(stored[n]) for n in sorted(stored)] == [PART, PART, len(file.stream) - 2 * PART]
    # Only the server's own user reads them.
    for path in (attachment_folder / attachment["id"]).iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((attachment_folder / attachment["id"]).stat().st_mode) == 0o700


def test_the_other_member_downloads_the_whole_stream_and_opens_it(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara, theo = browser_for(world.client), browser_for(world.therapist)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    for number, data in enumerate(file.parts()):
        send_part(clara, attachment["id"], number, data)
    complete(clara, attachment["id"], file.digest)

    listed = state(theo, attachment["id"])
    download = content(theo, attachment["id"])

    assert listed.status == 200
    assert listed.json()["attachment"]["digest"] == crypto.b64encode(file.digest)
    assert listed.json()["attachment"]["expires_at"] is None
    assert download.status == 200
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Length"] == str(len(file.stream))
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Accept-Ranges"] == "bytes"
    assert download.content == file.stream
    reference = file.sealed.reference(Attachment.objects.get().pk)
    assert open_attachment(download.content, reference) == file.plaintext


def test_the_server_keeps_no_name_type_or_plaintext_of_the_file(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(5000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)
    complete(clara, attachment["id"], file.digest)

    stored = b"".join(on_disk(attachment_folder, attachment["id"]).values())
    row = Attachment.objects.get()
    kept = [stored, bytes(row.digest or b"")]
    kept += [bytes(part.digest) for part in AttachmentPart.objects.all()]
    for blob in kept:
        assert file.plaintext[:32] not in blob
        assert b"session-notes" not in blob and b"application/pdf" not in blob
