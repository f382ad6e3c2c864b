"""On a server with a low message rate, messages written in a burst are answered
``rate_limited``: the browser waits the ``retry_after_ms`` it was given, resends, and each
message arrives once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import demo_accounts
from tests.browser.pages import Watched, expect, message_items, open_conversation, send, sign_in
from tests.browser.server import Server, make_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

RATE = 2  # frames a second, per socket
BURST = 2


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Server]:
    server = make_server(
        tmp_path_factory.mktemp("rate-limited-server"),
        {"CONFIDE_MESSAGE_RATE": str(RATE), "CONFIDE_MESSAGE_BURST": str(BURST)},
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_a_rate_limited_message_waits_as_told_and_arrives_once(
    slow_server: Server, new_page: Callable[..., Watched], sent_plaintexts: list[str]
) -> None:
    demo = demo_accounts(slow_server)
    therapist = new_page()
    t = therapist.page
    sign_in(t, slow_server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, "Casey Client")
    client = new_page()
    c = client.page
    sign_in(c, slow_server.url, demo.client.email, demo.client.password)
    expect(c.locator("#connection")).to_have_attribute("data-state", "open")
    c.wait_for_timeout(BURST * 1000 // RATE)  # a full bucket

    texts = [f"In a hurry, part {n} {uuid.uuid4().hex[:6]}" for n in range(1, 7)]
    sent_plaintexts.extend(texts)
    for text in texts:
        send(c, text)

    for text in texts:
        expect(message_items(t, text)).to_have_count(1, timeout=15_000)
        expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
            "data-state", re.compile("^(sent|read)$")
        )

    sent = client.frames_of("sent", "send")
    by_ref = {f["ref"]: (at, f) for at, f in sent}
    # Typing frames are charged too, and refused without a ref: only sends count here.
    limited = [
        (at, f)
        for at, f in client.frames_of("received", "error")
        if f["code"] == "rate_limited" and f.get("ref") in by_ref
    ]
    assert limited, "the burst exceeded the server's rate"
    for refused_at, error in limited:
        _, refused = by_ref[error["ref"]]
        later = [
            at
            for at, f in sent
            if f["client_message_id"] == refused["client_message_id"] and at > refused_at
        ]
        assert later, "a rate-limited message is sent again"
        waited_ms = (later[0] - refused_at) * 1000
        # Frame times are taken in this process: allow for the trip through the browser.
        assert waited_ms >= error["retry_after_ms"] - 60, (waited_ms, error["retry_after_ms"])
    acks = client.frames_of("received", "ack")
    assert sorted(f["client_message_id"] for _, f in acks if not f["duplicate"]) == sorted(
        {f["client_message_id"] for _, f in sent}
    )
    assert len({f["client_message_id"] for _, f in sent}) == len(texts)

    t.wait_for_timeout(1_000)
    for text in texts:
        expect(message_items(t, text)).to_have_count(1)
        expect(message_items(c, text)).to_have_count(1)
    therapist.assert_clean()
    client.assert_clean()
