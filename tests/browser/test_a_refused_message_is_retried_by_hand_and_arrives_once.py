"""A message the server refuses for good is shown as not sent, with a Retry button; once the
cause is gone, Retry delivers it, exactly once (same client message id, same bytes)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from playwright.sync_api import Locator, Request

from tests.browser.conftest import Conversing, Demo
from tests.browser.pages import (
    Watched,
    check_accessibility,
    conversation_id,
    expect,
    message_items,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server

# A listing: of all the conversations, or of one (not its sub-resources).
LISTING = re.compile(r"/api/conversations(/[0-9a-f-]{36})?(\?|$)")


def set_status(server: Server, conversation: str, status: str) -> None:
    """What a practice admin's discharge (and its undoing) does to the conversation."""
    server.execute(
        "UPDATE messaging_conversation SET status = ? WHERE id = ?",
        status,
        uuid.UUID(conversation),
    )


class Listings:
    """When each listing the page asked for was under way (asked, answered)."""

    def __init__(self, watched: Watched) -> None:
        self.spans: dict[Request, list[float]] = {}
        page = watched.page
        page.on("request", self._asked)
        page.on("requestfinished", self._answered)
        page.on("requestfailed", self._answered)

    def _asked(self, request: Request) -> None:
        if request.method == "GET" and LISTING.search(request.url):
            self.spans[request] = [time.monotonic(), float("inf")]

    def _answered(self, request: Request) -> None:
        if request in self.spans:
            self.spans[request][1] = time.monotonic()

    def during(self, start: float, end: float) -> int:
        """How many listings may have been made on the server between ``start`` and ``end``."""
        return sum(1 for asked, answered in self.spans.values() if asked < end and answered > start)


def refused_while_discharged(server: Server, client: Watched, text: str) -> tuple[Locator, bool]:
    """Discharges the conversation, sends ``text`` from the client, and undoes the
    discharge as soon as the refusal shows; returns the message's row and whether the
    client can have learned of the discharge meanwhile (a listing or a status event)."""
    c = client.page
    conversation = conversation_id(c)
    listings = Listings(client)
    # The client's socket is ready and its conversation's newest page is in: what it does
    # at a connect is over.
    for _ in range(200):
        if client.frames_of("received", "ready") and client.frames_of("received", "history"):
            break
        c.wait_for_timeout(50)
    else:
        raise AssertionError("the client's socket never became ready with its newest page")
    start = time.monotonic()
    set_status(server, conversation, "discharged")
    try:
        send(c, text)
        row = c.locator(".message.mine").filter(has_text=text)
        expect(row).to_have_attribute("data-state", "failed")
    finally:
        set_status(server, conversation, "active")
        end = time.monotonic()
    told = [at for at, _ in client.frames_of("received", "conversation_status") if at > start]
    return row, bool(told) or listings.during(start, end) > 0


def test_a_refused_message_is_retried_by_hand_and_arrives_once(
    server: Server,
    demo: Demo,
    conversing: Conversing,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    therapist, client = conversing.therapist, conversing.client
    t = therapist.page

    # A client that learns of a discharge never takes the conversation for active again,
    # and undoing one is this test's own device (a real discharge is for good). Should a
    # listing have been under way while the conversation was discharged (a loaded machine
    # makes one late), the client may know, and Retry would rightly send nothing: the
    # test begins again in a new tab, which knows only the conversation as active.
    for _ in range(3):
        text = f"Sent while the conversation was closed {uuid.uuid4().hex[:8]}"
        sent_plaintexts.append(text)
        row, may_know = refused_while_discharged(server, client, text)
        if not may_know:
            break
        client.page.context.close()
        client = new_page()
        sign_in(client.page, server.url, demo.client.email, demo.client.password)
    else:
        raise AssertionError("a listing was under way during every discharge")
    c = client.page

    # Shown as not sent, saying why, with a Retry button.
    expect(row.locator(".state")).to_have_text("Not sent")
    expect(row).to_contain_text("read-only")
    retry = row.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    screenshot(c, "message-failed-with-retry")
    check_accessibility(c, "a failed message")
    [(_, refusal)] = [
        (at, f)
        for at, f in client.frames_of("received", "error")
        if f["code"] == "conversation_closed"
    ]
    # Not resent by itself, though the server would now take it: only the person decides.
    c.wait_for_timeout(1_000)
    assert len(client.frames_of("sent", "send")) == 1

    retry.click()
    expect(row).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    expect(message_items(t, text)).to_have_count(1, timeout=5_000)
    sends = [f for _, f in client.frames_of("sent", "send")]
    assert len(sends) == 2
    assert sends[0]["client_message_id"] == sends[1]["client_message_id"]
    assert sends[0]["ciphertext"] == sends[1]["ciphertext"]
    acks = [f for _, f in client.frames_of("received", "ack")]
    assert [a["duplicate"] for a in acks] == [False]
    assert refusal["ref"] == sends[0]["ref"]

    # Once, on both sides.
    t.wait_for_timeout(1_000)
    expect(message_items(t, text)).to_have_count(1)
    expect(message_items(c, text)).to_have_count(1)
    therapist.assert_clean()
    client.assert_clean()
