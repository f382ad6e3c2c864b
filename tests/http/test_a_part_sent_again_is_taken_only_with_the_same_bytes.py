"""A part sent again with the bytes it was first sent with is accepted and changes nothing
(an upload resumed after a dropped connection); with other bytes it is refused, and the
part stored first stays exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from messaging.models import AttachmentPart
from tests.http.attachments import THREE_PARTS, begun, complete, on_disk, sealed_file, send_part
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_the_same_part_sent_again_is_accepted(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    first = send_part(clara, attachment["id"], 1, file.parts()[1])
    stored_at = AttachmentPart.objects.get().stored_at

    again = send_part(clara, attachment["id"], 1, file.parts()[1])

    assert first.status == again.status == 200
    assert again.json()["attachment"]["stored"] == [1]
    assert AttachmentPart.objects.get().stored_at == stored_at
    assert on_disk(attachment_folder, attachment["id"]) == {1: file.parts()[1]}


def test_a_part_sent_again_with_other_bytes_is_refused_and_the_stored_one_kept(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    other = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.parts()[0])

    reply = send_part(clara, attachment["id"], 0, other.parts()[0])

    assert reply.status == 409
    assert reply.code == "part_conflict"
    assert "Part 0 is already stored with other bytes" in reply.json()["error"]["message"]
    assert on_disk(attachment_folder, attachment["id"]) == {0: file.parts()[0]}
    # And the upload finishes with the bytes first sent.
    for number in (1, 2):
        send_part(clara, attachment["id"], number, file.parts()[number])
    assert complete(clara, attachment["id"], file.digest).status == 200


def test_no_part_is_taken_once_the_upload_is_complete(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(1000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)
    complete(clara, attachment["id"], file.digest)

    reply = send_part(clara, attachment["id"], 0, file.stream)

    assert reply.status == 400
    assert "complete" in reply.json()["error"]["message"]
    assert on_disk(attachment_folder, attachment["id"]) == {0: file.stream}
