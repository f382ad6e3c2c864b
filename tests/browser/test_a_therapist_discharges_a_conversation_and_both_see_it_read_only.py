"""A therapist discharges a conversation from the browser: a confirmation dialog (which
Escape cancels, by keyboard), then both sides see it read-only, at once and after a reload:
the notice says who discharged it and when, the composer is gone, the history is still
there. The Python client's send is refused with ``ConversationClosedError`` and leaves
its outbox (the browser's outbox: tests/js/web_a_discharged_conversation_sends_nothing_more)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from confide_client import ConfideClient, ConversationClosedError
from tests.browser.conftest import Demo
from tests.browser.pages import (
    Watched,
    check_accessibility,
    expect,
    message_items,
    open_conversation,
    screenshot,
    send,
    sign_in,
)
from tests.browser.peers import run
from tests.browser.server import Server
from tests.browser.test_a_therapist_renames_archives_and_copies_a_link_again import (
    PASSWORD,
    new_client,
)


def test_a_therapist_discharges_a_conversation_and_both_see_it_read_only(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Dana {suffix}", f"dana-{suffix}@example.invalid"
    conversation = new_client(server, demo, name, email)
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, name)
    client = new_page(390, 844)
    c = client.page
    sign_in(c, server.url, email, PASSWORD)
    expect(c.locator("#conversation-title")).to_be_visible()
    therapist_name = c.locator("#conversation-title").inner_text()
    before = f"Thank you for everything {suffix}"
    sent_plaintexts.append(before)
    send(c, before)
    expect(message_items(t, before)).to_be_visible()

    # The dialog: opened by keyboard, Escape cancels and gives the focus back.
    action = t.get_by_role("button", name="Discharge", exact=True)
    action.focus()
    t.keyboard.press("Enter")
    dialog = t.get_by_role("dialog", name=f"Discharge {name}?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("read-only for you and")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(t, "discharge-dialog-desktop")
    check_accessibility(t, "the discharge dialog")
    t.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(action).to_be_focused()
    expect(t.locator("#composer-text")).to_be_visible()

    # Confirmed: read-only on both sides at once.
    t.keyboard.press("Enter")
    dialog.get_by_role("button", name="Discharge").click()
    expect(dialog).to_be_hidden()
    notice = t.locator("#read-only-notice")
    expect(notice).to_contain_text("You discharged this conversation on")
    expect(notice).to_be_focused()
    expect(t.locator(".composer")).to_be_hidden()
    expect(action).to_be_hidden()
    expect(message_items(t, before)).to_be_visible()
    client_notice = c.locator("#read-only-notice")
    expect(client_notice).to_contain_text(f"{therapist_name} discharged this conversation on")
    expect(client_notice).to_contain_text("you can still read and export it")
    expect(c.locator(".composer")).to_be_hidden()
    expect(message_items(c, before)).to_be_visible()
    screenshot(t, "discharged-therapist-desktop")
    screenshot(c, "discharged-client-phone")
    check_accessibility(c, "a discharged conversation on a phone")
    c.set_viewport_size({"width": 1280, "height": 800})
    screenshot(c, "discharged-client-desktop")
    t.set_viewport_size({"width": 390, "height": 844})
    screenshot(t, "discharged-therapist-phone")

    # After a reload, the same, and the listing marks it.
    c.reload()
    sign_in(c, server.url, email, PASSWORD)
    expect(c.locator("#read-only-notice")).to_contain_text("discharged this conversation on")
    expect(c.locator(".composer")).to_be_hidden()
    expect(message_items(c, before)).to_be_visible()
    listed = t.request.get(server.url + "/api/conversations").json()["conversations"]
    mine = {item["id"]: item for item in listed}[str(conversation)]
    assert mine["status"] == "discharged" and mine["discharged_at"]

    # The Python client's send is refused too.
    async def write() -> None:
        python = ConfideClient(server.url, backfill=False)
        try:
            await python.sign_in(email, PASSWORD)
            await python.connect()
            with pytest.raises(ConversationClosedError):
                await python.send_text(conversation, f"after {suffix}", timeout=10)
            assert len(python.outbox) == 0
        finally:
            await python.close()

    run(write)
    therapist.assert_clean()
    client.assert_clean()
