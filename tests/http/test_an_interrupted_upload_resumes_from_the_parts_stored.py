"""An upload interrupted halfway resumes: the server says which parts it holds, the client
sends the others (and, not knowing whether the last one arrived, that one again), and the
upload completes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.http.attachments import (
    PART,
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


def test_parts_0_and_2_stored_then_the_rest_and_it_completes(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    file = sealed_file(4 * PART - 5000)  # four parts
    before = browser_for(world.client)
    attachment = begun(before, world.chat, len(file.stream))
    send_part(before, attachment["id"], 0, file.parts()[0])
    send_part(before, attachment["id"], 2, file.parts()[2])

    # The connection dropped; Clara's browser comes back and asks what the server holds.
    after = browser_for(world.client)
    resumed = state(after, attachment["id"])

    assert resumed.status == 200
    listed = resumed.json()["attachment"]
    assert (listed["parts"], listed["stored"], listed["complete"]) == (4, [0, 2], False)
    assert listed["expires_at"] is not None
    for number in [n for n in range(listed["parts"]) if n not in listed["stored"]] + [2]:
        reply = send_part(after, attachment["id"], number, file.parts()[number])
        assert reply.status == 200, reply.content
    done = complete(after, attachment["id"], file.digest)

    assert done.status == 200
    assert done.json()["attachment"]["stored"] == [0, 1, 2, 3]
    assert sorted(on_disk(attachment_folder, attachment["id"])) == [0, 1, 2, 3]
    assert content(browser_for(world.therapist), attachment["id"]).content == file.stream
