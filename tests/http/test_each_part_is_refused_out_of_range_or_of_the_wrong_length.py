"""Each part of an upload is exactly the part size, the last exactly the rest, and its
number one the upload has; any other is refused with a message saying what was expected,
and nothing of it is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.http.attachments import (
    PART,
    THREE_PARTS,
    begun,
    on_disk,
    sealed_file,
    send_part,
    state,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload(world: Practice5, browser_for: BrowserFor) -> tuple[str, list[bytes]]:
    """Clara's upload of a file of three parts, nothing sent yet."""
    file = sealed_file(THREE_PARTS)
    attachment = begun(browser_for(world.client), world.chat, len(file.stream))
    return str(attachment["id"]), file.parts()


def refused(
    browser_for: BrowserFor,
    world: Practice5,
    folder: Path,
    attachment_id: str,
    number: int,
    data: bytes,
) -> str:
    """Sends the part, checks it was refused as a bad request and left nothing; returns the
    message."""
    clara = browser_for(world.client)
    reply = send_part(clara, attachment_id, number, data)
    assert reply.status == 400, reply.content
    assert reply.code == "bad_request"
    assert on_disk(folder, attachment_id) == {}
    assert state(clara, attachment_id).json()["attachment"]["stored"] == []
    message: str = reply.json()["error"]["message"]
    return message


def test_a_short_part_is_refused(
    world: Practice5,
    browser_for: BrowserFor,
    attachment_folder: Path,
    upload: tuple[str, list[bytes]],
) -> None:
    attachment_id, parts = upload

    message = refused(browser_for, world, attachment_folder, attachment_id, 0, parts[0][:-1])

    assert f"exactly {PART:,} bytes" in message and f"{PART - 1:,} were sent" in message


def test_a_part_longer_than_the_part_size_is_refused_as_too_large(
    world: Practice5,
    browser_for: BrowserFor,
    attachment_folder: Path,
    upload: tuple[str, list[bytes]],
) -> None:
    attachment_id, parts = upload

    reply = send_part(browser_for(world.client), attachment_id, 1, parts[1] + parts[2][:1])

    assert reply.status == 413
    assert reply.code == "body_too_large"
    assert f"at most {PART} bytes" in reply.json()["error"]["message"]
    assert on_disk(attachment_folder, attachment_id) == {}


def test_a_last_part_of_another_length_than_the_rest_is_refused(
    world: Practice5,
    browser_for: BrowserFor,
    attachment_folder: Path,
    upload: tuple[str, list[bytes]],
) -> None:
    attachment_id, parts = upload

    message = refused(browser_for, world, attachment_folder, attachment_id, 2, parts[1])

    assert f"exactly {len(parts[2]):,} bytes (the last part" in message


@pytest.mark.parametrize("number", [3, 4, 1_000_000])
def test_a_part_number_the_upload_does_not_have_is_refused(
    world: Practice5,
    browser_for: BrowserFor,
    attachment_folder: Path,
    upload: tuple[str, list[bytes]],
    number: int,
) -> None:
    attachment_id, parts = upload

    message = refused(browser_for, world, attachment_folder, attachment_id, number, parts[2])

    assert f"parts 0 to 2; there is no part {number}" in message


def test_a_part_sent_as_json_is_refused(
    world: Practice5,
    browser_for: BrowserFor,
    attachment_folder: Path,
    upload: tuple[str, list[bytes]],
) -> None:
    attachment_id, parts = upload
    clara = browser_for(world.client)

    reply = clara.put_bytes(
        f"/api/attachments/{attachment_id}/parts/0", parts[0], content_type="application/json"
    )

    assert reply.status == 400
    assert "application/octet-stream" in reply.json()["error"]["message"]
    assert on_disk(attachment_folder, attachment_id) == {}


def test_a_part_without_the_csrf_token_is_refused(
    world: Practice5,
    browser_for: BrowserFor,
    attachment_folder: Path,
    upload: tuple[str, list[bytes]],
) -> None:
    attachment_id, parts = upload
    clara = browser_for(world.client)
    clara.csrf_token()  # the cookie is there, as with a request another site makes

    response = clara.client.put(
        f"/api/attachments/{attachment_id}/parts/0",
        data=parts[0],
        content_type="application/octet-stream",
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert on_disk(attachment_folder, attachment_id) == {}
