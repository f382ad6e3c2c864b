"""When the practice publishes a new messaging agreement, the server refuses the client's
next message (``agreement_required``): the browser shows the new text, and once it is
accepted the message goes, exactly once (same client message id, same bytes). The server
keeps the text: the browser shows what ``GET /api/agreement`` sent and posts its version.

This test runs on a server of its own, since the new version changes what every later
client would be asked to accept."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tests.browser.conftest import CLIENT_NAME, Demo, demo_accounts
from tests.browser.pages import (
    Watched,
    accept_agreement,
    check_accessibility,
    expect,
    message_items,
    open_conversation,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server, make_server

NEW_VERSION = "2026-1"
NEW_SECTIONS: list[dict[str, object]] = [
    {
        "heading": "Office hours from January",
        "paragraphs": ["Your therapist now reads messages on weekdays until 6 pm."],
    },
    {
        "heading": "Not for emergencies",
        "paragraphs": ["If you are in crisis, call or text 988. In an emergency, call 911."],
    },
]


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = make_server(tmp_path_factory.mktemp("agreement-server"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def publish(server: Server, version: str, sections: list[dict[str, object]]) -> None:
    """The demo practice publishes a new version (as ``accounts.agreement`` stores one)."""
    server.execute(
        "INSERT INTO accounts_agreementversion (practice_id, version, sections, published_at) "
        "SELECT id, ?, ?, ? FROM accounts_practice WHERE name = 'Demo Practice'",
        version,
        json.dumps(sections),
        datetime.now(UTC),
    )


def test_a_new_agreement_is_accepted_before_a_waiting_message_goes(
    own_server: Server, new_page: Callable[..., Watched], sent_plaintexts: list[str]
) -> None:
    demo: Demo = demo_accounts(own_server)
    therapist, client = new_page(), new_page()
    t, c = therapist.page, client.page
    sign_in(t, own_server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, CLIENT_NAME)
    # The first sign-in shows the practice's current text, the default, and accepts it.
    sign_in(c, own_server.url, demo.client.email, demo.client.password)
    first = c.request.get(own_server.url + "/api/agreement").json()
    assert first["accepted"]["version"] == first["agreement"]["version"] == "2025-1"

    publish(own_server, NEW_VERSION, NEW_SECTIONS)
    text = f"Written after the practice changed its agreement {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    # Offline, then back: the new connection reads the client's acceptance afresh.
    c.context.set_offline(True)
    expect(c.locator("#connection")).to_contain_text("offline")
    send(c, text)
    c.context.set_offline(False)

    # The server refused it until the new version is accepted; the page shows that text.
    expect(c.get_by_role("heading", name="Messaging agreement")).to_be_visible()
    expect(c.get_by_text("Your practice updated its messaging agreement")).to_be_visible()
    expect(c.get_by_role("heading", name="Office hours from January")).to_be_visible()
    expect(c.get_by_role("heading", name="What messaging is for")).to_have_count(0)
    refusals = [f for _, f in client.frames_of("received", "error")]
    assert [f["code"] for f in refusals] == ["agreement_required"]
    screenshot(c, "agreement-renewed")
    check_accessibility(c, "a renewed agreement")
    c.wait_for_timeout(500)
    expect(message_items(t, text)).to_have_count(0)

    accept_agreement(c)

    expect(message_items(t, text)).to_have_count(1, timeout=10_000)
    mine = c.locator(".message.mine").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    sends = [f for _, f in client.frames_of("sent", "send")]
    assert len({f["client_message_id"] for f in sends}) == 1
    assert len({f["ciphertext"] for f in sends}) == 1, "the same bytes, sent again"
    assert len(sends) == 2
    recorded = c.request.get(own_server.url + "/api/agreement").json()
    assert recorded["agreement"]["version"] == recorded["accepted"]["version"] == NEW_VERSION
    # Nothing arrives twice.
    t.wait_for_timeout(1_000)
    expect(message_items(t, text)).to_have_count(1)
    expect(message_items(c, text)).to_have_count(1)
    therapist.assert_clean()
    client.assert_clean()
