"""An upload that cannot be taken is refused when it begins, before any byte is stored,
with a message that names the limit: an empty file, a length no file makes, a file over
the limit, a practice over its quota, a conversation that is discharged or not the
member's, a client who has not accepted the agreement."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from crypto.attachment import ATTACHMENT_CHUNK
from messaging.models import Attachment
from messaging.services.discharge import discharge
from tests.http.attachments import begin, begun, nothing_stored, stream_size
from tests.http.conftest import BrowserFor
from tests.personas import Practice5, make_practice

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def test_an_empty_file_is_refused(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    reply = begin(browser_for(world.client), world.chat, stream_size(1) - 1)

    assert reply.status == 400
    assert reply.code == "bad_request"
    assert "An empty file is not sent" in reply.json()["error"]["message"]
    assert str(stream_size(1)) in reply.json()["error"]["message"]
    assert nothing_stored(attachment_folder)


def test_a_length_no_file_makes_is_refused(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    # A file one byte longer than a whole chunk adds a chunk's 17 bytes of overhead too.
    between = stream_size(ATTACHMENT_CHUNK) + 1

    reply = begin(browser_for(world.client), world.chat, between)

    assert reply.status == 400
    assert reply.code == "bad_request"
    assert "No file makes a stream of" in reply.json()["error"]["message"]
    assert nothing_stored(attachment_folder)


def test_a_file_over_the_limit_is_refused_naming_the_limit(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    reply = begin(browser_for(world.client), world.chat, stream_size(25 * MIB + 1))

    assert reply.status == 413
    assert reply.code == "attachment_too_large"
    error = reply.json()["error"]
    assert error["max_bytes"] == 25 * MIB
    assert "Files of up to 25 MiB" in error["message"]
    assert nothing_stored(attachment_folder)


def test_a_file_at_the_limit_is_taken(world: Practice5, browser_for: BrowserFor) -> None:
    attachment = begun(browser_for(world.client), world.chat, stream_size(25 * MIB))

    assert attachment["parts"] == 26


def test_a_file_over_a_lower_limit_is_refused(
    world: Practice5, browser_for: BrowserFor, settings: Any
) -> None:
    settings.CONFIDE_ATTACHMENT_MAX_BYTES = 1000

    refused = begin(browser_for(world.client), world.chat, stream_size(1001))
    taken = begin(browser_for(world.client), world.chat, stream_size(1000))

    assert refused.code == "attachment_too_large"
    assert refused.json()["error"]["max_bytes"] == 1000
    assert "1,000 bytes" in refused.json()["error"]["message"]
    assert taken.status == 200


def test_an_upload_past_the_practices_quota_is_refused_saying_what_is_left(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path, settings: Any
) -> None:
    settings.CONFIDE_ATTACHMENT_QUOTA_BYTES = 3 * MIB
    clara, olive = browser_for(world.client), browser_for(world.other_therapist)
    # Uploads still under way count, whoever makes them in the practice.
    first = begun(clara, world.chat, 2 * MIB)
    assert first["complete"] is False

    reply = begin(olive, world.other_chat, MIB + 1)

    assert reply.status == 413
    assert reply.code == "quota_exceeded"
    error = reply.json()["error"]
    assert error["remaining_bytes"] == MIB
    assert "quota of 3 MiB" in error["message"] and "1 MiB is left" in error["message"]
    assert Attachment.objects.count() == 1
    assert not attachment_folder.exists() or not any(attachment_folder.iterdir())
    # What is left is still taken.
    assert begin(olive, world.other_chat, MIB).status == 200


def test_a_discharged_conversation_takes_no_new_upload(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    discharge(world.therapist.user, world.chat.id)

    for person in (world.client, world.therapist):
        reply = begin(browser_for(person), world.chat, stream_size(100))
        assert reply.status == 409
        assert reply.code == "conversation_closed"
        assert "discharged" in reply.json()["error"]["message"]
    assert nothing_stored(attachment_folder)


@pytest.mark.parametrize("outsider", ["other_client", "other_therapist"])
def test_someone_elses_conversation_is_not_found(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path, outsider: str
) -> None:
    browser = browser_for(getattr(world, outsider))

    theirs = begin(browser, world.chat, stream_size(100))
    missing = begin(browser, uuid.uuid4(), stream_size(100))

    assert theirs.status == missing.status == 404
    assert theirs.content == missing.content
    assert nothing_stored(attachment_folder)


def test_an_admin_uploads_nothing(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    reply = begin(browser_for(world.admin), world.chat, stream_size(100))

    assert reply.status == 403
    assert reply.code == "forbidden"
    assert nothing_stored(attachment_folder)


def test_a_client_who_has_not_accepted_the_agreement_uploads_nothing(
    db: None, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    world = make_practice(agreed=False)

    reply = begin(browser_for(world.client), world.chat, stream_size(100))

    assert reply.status == 403
    assert reply.code == "agreement_required"
    assert nothing_stored(attachment_folder)
    # Therapists are never asked.
    assert begin(browser_for(world.therapist), world.chat, stream_size(100)).status == 200


@pytest.mark.parametrize("size", [0, -5, 1.5, "100", True, None])
def test_a_size_that_is_not_a_whole_number_of_bytes_is_refused(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path, size: object
) -> None:
    reply = begin(browser_for(world.client), world.chat, size)  # type: ignore[arg-type]

    assert reply.status == 400
    assert reply.code == "bad_request"
    assert nothing_stored(attachment_folder)
