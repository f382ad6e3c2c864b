"""An upload is completed only once every part is stored and the stream they make has the
digest the client computed: the server reads the stored parts back to check it. Any
refusal leaves the upload incomplete, and says why."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import crypto
from crypto.attachment import attachment_digest
from messaging.models import Attachment
from tests.http.attachments import (
    THREE_PARTS,
    begun,
    complete,
    content,
    sealed_file,
    send_part,
    state,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_completing_with_a_missing_part_is_refused_naming_it(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.parts()[0])
    send_part(clara, attachment["id"], 2, file.parts()[2])

    reply = complete(clara, attachment["id"], file.digest)

    assert reply.status == 409
    assert reply.code == "attachment_incomplete"
    error = reply.json()["error"]
    assert error["missing_parts"] == [1]
    assert error["message"].startswith("Part 1 of 3 is not stored yet")
    assert state(clara, attachment["id"]).json()["attachment"]["complete"] is False


def test_completing_with_a_wrong_digest_is_refused_and_the_upload_stays_incomplete(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    for number, data in enumerate(file.parts()):
        send_part(clara, attachment["id"], number, data)
    wrong = bytes(32)

    reply = complete(clara, attachment["id"], wrong)

    assert reply.status == 409
    assert reply.code == "digest_mismatch"
    message = reply.json()["error"]["message"]
    assert crypto.b64encode(file.digest) in message  # what the stored parts make
    assert crypto.b64encode(wrong) in message  # and what was sent
    after = state(clara, attachment["id"]).json()["attachment"]
    assert after["complete"] is False and after["digest"] is None
    assert after["expires_at"] is not None
    assert content(clara, attachment["id"]).code == "attachment_incomplete"
    # The right digest still completes it.
    assert complete(clara, attachment["id"], file.digest).status == 200


def test_the_digest_is_the_one_the_clients_message_names(
    world: Practice5, browser_for: BrowserFor
) -> None:
    """The server's digest is crypto's: BLAKE2b-256 of the label and the whole stream."""
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    for number, data in enumerate(file.parts()):
        send_part(clara, attachment["id"], number, data)

    reference = file.sealed.reference(uuid.UUID(attachment["id"]))

    reply = complete(clara, attachment["id"], reference.digest)

    assert reply.status == 200, reply.content
    assert reply.json()["attachment"]["digest"] == crypto.b64encode(attachment_digest(file.stream))


def test_completing_again_answers_the_same_and_another_digest_is_refused(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(1000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)
    first = complete(clara, attachment["id"], file.digest)

    again = complete(clara, attachment["id"], file.digest)
    other = complete(clara, attachment["id"], bytes(32))

    assert first.status == again.status == 200
    assert again.json() == first.json()
    assert other.status == 409 and other.code == "digest_mismatch"


def test_a_part_the_storage_changed_is_dropped_to_be_sent_again(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    for number, data in enumerate(file.parts()):
        send_part(clara, attachment["id"], number, data)
    changed = attachment_folder / attachment["id"] / "1"
    changed.write_bytes(bytes(len(file.parts()[1])))

    reply = complete(clara, attachment["id"], file.digest)

    assert reply.status == 409
    assert reply.code == "attachment_incomplete"
    assert reply.json()["error"]["missing_parts"] == [1]
    assert "did not keep part 1" in reply.json()["error"]["message"]
    assert state(clara, attachment["id"]).json()["attachment"]["stored"] == [0, 2]
    assert not changed.exists()
    send_part(clara, attachment["id"], 1, file.parts()[1])
    assert complete(clara, attachment["id"], file.digest).status == 200
    assert Attachment.objects.get().completed_at is not None


def test_only_the_uploader_completes(world: Practice5, browser_for: BrowserFor) -> None:
    clara = browser_for(world.client)
    file = sealed_file(1000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)

    reply = complete(browser_for(world.therapist), attachment["id"], file.digest)

    assert reply.status == 404
    assert reply.code == "not_found"
    assert Attachment.objects.get().completed_at is None
