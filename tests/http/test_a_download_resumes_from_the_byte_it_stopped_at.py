"""A download that stopped resumes with ``Range: bytes=<what it has>-``: the server answers
206 with the rest of the stream, across part boundaries; a range past the end is refused,
and one it does not serve is ignored for the whole stream."""

from __future__ import annotations

import pytest

from tests.http.attachments import PART, THREE_PARTS, content, sealed_file, uploaded
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("first", [0, 1, PART - 1, PART, PART + 12345, 2 * PART])
def test_the_rest_of_the_stream_from_any_byte(
    world: Practice5, browser_for: BrowserFor, first: int
) -> None:
    file = sealed_file(THREE_PARTS)
    attachment_id = uploaded(browser_for(world.client), world.chat, file)
    size = len(file.stream)

    reply = content(browser_for(world.therapist), attachment_id, {"Range": f"bytes={first}-"})

    assert reply.status == 206
    assert reply.content == file.stream[first:]
    assert reply.headers["Content-Range"] == f"bytes {first}-{size - 1}/{size}"
    assert reply.headers["Content-Length"] == str(size - first)
    assert reply.headers["Cache-Control"] == "no-store"


def test_a_closed_range_and_a_suffix(world: Practice5, browser_for: BrowserFor) -> None:
    file = sealed_file(THREE_PARTS)
    attachment_id = uploaded(browser_for(world.client), world.chat, file)
    theo = browser_for(world.therapist)
    size = len(file.stream)

    middle = content(theo, attachment_id, {"Range": f"bytes={PART - 10}-{PART + 9}"})
    tail = content(theo, attachment_id, {"Range": "bytes=-100"})

    assert middle.status == tail.status == 206
    assert middle.content == file.stream[PART - 10 : PART + 10]
    assert middle.headers["Content-Range"] == f"bytes {PART - 10}-{PART + 9}/{size}"
    assert tail.content == file.stream[-100:]


def test_a_range_past_the_end_is_refused(world: Practice5, browser_for: BrowserFor) -> None:
    file = sealed_file(1000)
    attachment_id = uploaded(browser_for(world.client), world.chat, file)
    size = len(file.stream)

    reply = content(browser_for(world.therapist), attachment_id, {"Range": f"bytes={size}-"})

    assert reply.status == 416
    assert reply.code == "range_not_satisfiable"
    assert reply.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=0-10,20-30", "lines=1-", "bytes=x-", "bytes=9-3"])
def test_a_range_this_server_does_not_serve_gets_the_whole_stream(
    world: Practice5, browser_for: BrowserFor, header: str
) -> None:
    file = sealed_file(1000)
    attachment_id = uploaded(browser_for(world.client), world.chat, file)

    reply = content(browser_for(world.therapist), attachment_id, {"Range": header})

    assert reply.status == 200
    assert reply.content == file.stream
