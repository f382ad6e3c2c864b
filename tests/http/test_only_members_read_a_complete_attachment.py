"""A complete attachment is read by the members of its conversation, and by nobody else: an
upload under way is its uploader's alone, and someone else's attachment looks exactly like
one that does not exist."""

from __future__ import annotations

import uuid

import pytest

from tests.http.attachments import begun, complete, content, sealed_file, send_part, state
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_a_download_before_completion_is_refused(world: Practice5, browser_for: BrowserFor) -> None:
    clara, theo = browser_for(world.client), browser_for(world.therapist)
    file = sealed_file(1000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)

    own = content(clara, attachment["id"])
    other_member = content(theo, attachment["id"])
    listed_by_other = state(theo, attachment["id"])

    assert own.status == 409
    assert own.code == "attachment_incomplete"
    assert "complete it before it can be read" in own.json()["error"]["message"]
    # Until it is complete, the other member does not learn that it exists.
    assert other_member.status == listed_by_other.status == 404
    complete(clara, attachment["id"], file.digest)
    assert content(theo, attachment["id"]).content == file.stream


@pytest.mark.parametrize("outsider", ["other_client", "other_therapist"])
def test_a_non_members_download_is_not_found(
    world: Practice5, browser_for: BrowserFor, outsider: str
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(1000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)
    complete(clara, attachment["id"], file.digest)
    stranger = browser_for(getattr(world, outsider))

    theirs = content(stranger, attachment["id"])
    missing = content(stranger, str(uuid.uuid4()))

    assert theirs.status == missing.status == 404
    assert theirs.content == missing.content
    assert state(stranger, attachment["id"]).status == 404
    assert send_part(stranger, attachment["id"], 0, file.stream).status == 404


def test_an_admin_reads_no_attachment(world: Practice5, browser_for: BrowserFor) -> None:
    clara = browser_for(world.client)
    file = sealed_file(1000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)
    complete(clara, attachment["id"], file.digest)

    reply = content(browser_for(world.admin), attachment["id"])

    assert reply.status == 403
    assert reply.code == "forbidden"


def test_signed_out_nothing_is_read(world: Practice5, browser_for: BrowserFor) -> None:
    clara = browser_for(world.client)
    file = sealed_file(1000)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.stream)
    complete(clara, attachment["id"], file.digest)

    reply = content(browser_for(None), attachment["id"])

    assert reply.status == 401
    assert reply.code == "unauthenticated"
