"""A therapist's working day on a desktop: the inbox beside the open conversation, the
open one marked; the inbox found by a client's name; the conversation searched in the
page over its decrypted history, earlier pages loaded on request; messages grouped under
their day. On a phone the same screens show one at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.browser.conftest import CLIENT_NAME, Demo
from tests.browser.pages import (
    Watched,
    check_accessibility,
    expect,
    open_conversation,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server

COUNT = 55  # more than the first page a conversation opens on (50)


def test_a_therapist_works_through_the_day_with_the_inbox_beside_the_conversation(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    marker = uuid.uuid4().hex[:8]
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    texts = [f"The lighthouse dream again {marker}"] + [
        f"Line {n:02d} of the week {marker}" for n in range(COUNT - 1)
    ]
    sent_plaintexts.extend(texts)
    for text in texts:
        send(c, text)
    expect(c.locator(".message.mine", has_text=marker)).to_have_count(COUNT)
    for state in ("queued", "sending", "failed"):
        expect(c.locator(f".message.mine[data-state={state}]")).to_have_count(0, timeout=20_000)

    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    inbox = t.locator(".pane-inbox")
    expect(t.get_by_text("Choose a client to read and write.")).to_be_visible()

    # Found by name, accents and case aside; a name nobody has says so.
    find = t.get_by_label("Find a client")
    find.fill("CASÉY")
    expect(inbox.locator(".inbox-item")).to_have_count(1)
    find.fill("nobody-by-this-name")
    expect(inbox.locator(".inbox-item")).to_have_count(0)
    expect(inbox.get_by_text('No client is called "nobody-by-this-name".')).to_be_visible()
    find.fill("casey")

    open_conversation(t, CLIENT_NAME)
    # Both panes at once; the open conversation is marked in the list; the search stays.
    expect(inbox.get_by_role("heading", name="Your clients")).to_be_visible()
    expect(inbox.locator(".inbox-item", has_text=CLIENT_NAME)).to_have_attribute(
        "aria-current", "page"
    )
    expect(find).to_have_value("casey")
    expect(t.locator(".day-separator").last).to_have_text("Today")
    expect(t.locator(".message-text", has_text=texts[-1])).to_be_visible()

    # The first message is not among those loaded: searching says so, then finds it.
    t.get_by_role("button", name="Search", exact=True).click()
    search = t.get_by_label(f"Search your conversation with {CLIENT_NAME}")
    expect(search).to_be_focused()
    search.fill(f"lighthouse dream again {marker}")
    status = t.locator(".search-status")
    expect(status).to_have_text("No match in the messages loaded")
    t.get_by_role("button", name="Search earlier messages too").click()
    expect(status).to_have_text("1 of 1 match", timeout=20_000)
    current = t.locator(".message.match-current")
    expect(current).to_have_count(1)
    expect(current.locator(".message-text")).to_have_text(texts[0])
    expect(current).to_be_in_viewport()
    search.fill(f"of the week {marker}")
    expect(status).to_have_text(f"{COUNT - 1} of {COUNT - 1} matches")
    search.press("Enter")
    expect(status).to_have_text(f"{COUNT - 2} of {COUNT - 1} matches")
    expect(t.locator(".message.match-current .message-text")).to_have_text(texts[-2])
    screenshot(t, "working-day-desktop")
    t.emulate_media(color_scheme="dark")
    screenshot(t, "working-day-desktop-dark")
    t.emulate_media(color_scheme="light")
    check_accessibility(t, "the inbox beside a conversation being searched")
    search.press("Escape")
    expect(t.locator(".message.match")).to_have_count(0)
    expect(t.get_by_role("button", name="Search", exact=True)).to_be_focused()

    # On a phone: one screen at a time, the way back to the list on top.
    phone = new_page()
    p = phone.page
    sign_in(p, server.url, demo.therapist.email, demo.therapist.password)
    expect(p.locator(".pane-main")).to_be_hidden()
    open_conversation(p, CLIENT_NAME)
    expect(p.locator(".pane-inbox")).to_be_hidden()
    expect(p.get_by_role("link", name="← All conversations")).to_be_visible()
    screenshot(p, "working-day-phone")
    p.emulate_media(color_scheme="dark")
    screenshot(p, "working-day-phone-dark")
    p.emulate_media(color_scheme="light")
    p.get_by_role("link", name="← All conversations").click()
    expect(p.get_by_role("heading", name="Your clients")).to_be_visible()
    expect(p.locator(".pane-main")).to_be_hidden()
    for page in (therapist, client, phone):
        page.assert_clean()
