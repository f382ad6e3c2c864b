"""The history is on the server, encrypted: a reload (which forgets the keys) and a second
browser signed in as the same client both show every message, decrypted."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import (
    Watched,
    expect,
    message_items,
    open_conversation,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server


def test_history_survives_a_reload_and_a_second_browser(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    therapist = new_page()
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, "Casey Client")

    marker = uuid.uuid4().hex[:8]
    texts = [f"History line {n} {marker}" for n in range(3)]
    sent_plaintexts.extend(texts)
    send(c, texts[0])
    expect(message_items(t, texts[0])).to_have_count(1)
    send(t, texts[1])
    expect(message_items(c, texts[1])).to_have_count(1)
    send(c, texts[2])
    expect(message_items(t, texts[2])).to_have_count(1)
    expect(c.locator(".message.mine").last).to_have_attribute("data-state", "read")

    # A reload forgets the keys: sign in again, and the history is back.
    c.reload()
    expect(c.get_by_role("heading", name="Sign in")).to_be_visible()
    assert c.evaluate("Object.keys(sessionStorage).length") == 0
    sign_in(c, server.url, demo.client.email, demo.client.password)
    for text in texts:
        expect(message_items(c, text)).to_have_count(1)

    # Another browser, same client: everything, decrypted.
    second = new_page(width=1280, height=800)
    s = second.page
    sign_in(s, server.url, demo.client.email, demo.client.password)
    for text in texts:
        expect(message_items(s, text)).to_have_count(1)
    expect(s.locator(".message.unopened")).to_have_count(0)
    screenshot(s, "conversation-desktop")

    for page in (client, therapist, second):
        page.assert_clean()
