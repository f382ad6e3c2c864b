"""Once a conversation is discharged it is read-only: no upload begins or goes on in it,
while both members still download what was completed before."""

from __future__ import annotations

from pathlib import Path

import pytest

from messaging.services.discharge import discharge
from tests.http.attachments import (
    THREE_PARTS,
    begin,
    begun,
    complete,
    content,
    on_disk,
    sealed_file,
    send_part,
    state,
    stream_size,
    uploaded,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_a_discharged_conversations_new_upload_is_refused(
    world: Practice5, browser_for: BrowserFor
) -> None:
    discharge(world.therapist.user, world.chat.id)

    reply = begin(browser_for(world.client), world.chat, stream_size(1000))

    assert reply.status == 409
    assert reply.code == "conversation_closed"


def test_an_upload_under_way_stops_at_discharge(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.parts()[0])
    discharge(world.therapist.user, world.chat.id)

    part = send_part(clara, attachment["id"], 1, file.parts()[1])
    done = complete(clara, attachment["id"], file.digest)

    assert part.status == done.status == 409
    assert part.code == done.code == "conversation_closed"
    assert sorted(on_disk(attachment_folder, attachment["id"])) == [0]


def test_a_discharged_conversations_attachment_is_still_downloaded(
    world: Practice5, browser_for: BrowserFor
) -> None:
    file = sealed_file(THREE_PARTS)
    attachment_id = uploaded(browser_for(world.client), world.chat, file)
    discharge(world.therapist.user, world.chat.id)

    for person in (world.client, world.therapist):
        browser = browser_for(person)
        assert state(browser, attachment_id).json()["attachment"]["complete"] is True
        download = content(browser, attachment_id)
        assert download.status == 200
        assert download.content == file.stream
