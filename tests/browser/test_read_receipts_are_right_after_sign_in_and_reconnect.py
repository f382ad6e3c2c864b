"""Read receipts come right without a later message: a message the therapist reads as
soon as they sign in shows "Read" to the client, and one read while the client's browser
was offline shows "Read" once it is back online."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.browser.conftest import CLIENT_NAME, Demo
from tests.browser.pages import Watched, expect, message_items, open_conversation, send, sign_in
from tests.browser.server import Server


def test_a_message_read_at_sign_in_shows_read_to_its_sender(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    text = f"Written while you were away {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    send(c, text)
    mine = c.locator(".message.mine").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", "sent")

    # The therapist signs in and opens the conversation at once: nothing else is sent.
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, CLIENT_NAME)
    expect(message_items(t, text)).to_have_count(1)
    expect(mine).to_have_attribute("data-state", "read", timeout=10_000)
    expect(mine.locator(".state")).to_have_text("Read")
    for page in (therapist, client):
        page.assert_clean()


def test_a_message_read_while_its_sender_was_offline_shows_read_after_the_reconnect(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    text = f"Did you get this? {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    send(c, text)
    mine = c.locator(".message.mine").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", "sent")
    c.context.set_offline(True)
    expect(c.locator("#connection")).to_contain_text("offline")

    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, CLIENT_NAME)
    expect(message_items(t, text)).to_have_count(1)
    # The therapist's read reaches the server while the client hears nothing.
    t.wait_for_timeout(1_000)
    expect(mine).to_have_attribute("data-state", "sent")

    c.context.set_offline(False)
    expect(mine).to_have_attribute("data-state", "read", timeout=15_000)
    for page in (therapist, client):
        page.assert_clean()


def test_a_message_read_by_a_client_as_they_sign_in_shows_read_to_the_therapist(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    """The client's page opens their one conversation at once, before its socket is up:
    the messages the catch-up brings are read there and then."""
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, CLIENT_NAME)
    text = f"See you on Thursday {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    send(t, text)
    mine = t.locator(".message.mine").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", "sent")

    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    expect(message_items(c, text)).to_have_count(1)
    expect(mine).to_have_attribute("data-state", "read", timeout=10_000)
    for page in (therapist, client):
        page.assert_clean()


def test_a_message_that_arrives_with_the_reconnect_is_read_and_says_so(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, CLIENT_NAME)

    c.context.set_offline(True)
    expect(c.locator("#connection")).to_contain_text("offline")
    text = f"Checking in after the weekend {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    send(t, text)
    mine = t.locator(".message.mine").filter(has_text=text)
    expect(mine).to_have_attribute("data-state", "sent")
    c.context.set_offline(False)
    expect(message_items(c, text)).to_have_count(1, timeout=15_000)
    expect(mine).to_have_attribute("data-state", "read", timeout=10_000)
    for page in (therapist, client):
        page.assert_clean()
