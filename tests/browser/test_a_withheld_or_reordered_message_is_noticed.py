"""A server that withholds a message and numbers the rest without a gap, or swaps two, is
caught by the messages' own order (crypto/SPEC.md, "Order"): each browser-sealed message
carries its sender's session, counter, time and the reference of the newest message the
sender held, signed. Here the server's database is edited as a compromised server could:
the therapist's second message is deleted and the later ones renumbered, and the client's
two messages are swapped. Both sides, signing in afresh, see calm notices beside the
messages concerned, in the sender's own times."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page

from tests.browser.conftest import Demo
from tests.browser.pages import (
    Watched,
    check_accessibility,
    expect,
    message_items,
    new_client,
    open_conversation,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server
from tests.tampering import swap, withhold

PASSWORD = "a calm river at dawn"


def _sent(page: Page, text: str) -> None:
    send(page, text)
    expect(page.locator(".message.mine", has_text=text)).to_have_attribute(
        "data-state", re.compile("sent|read")
    )


def test_a_withheld_and_a_swapped_message_are_noticed_on_both_sides(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name = f"Quinn {suffix}"
    email = f"quinn-{suffix}@example.invalid"

    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)

    client = new_client(t, new_page, name, PASSWORD, email)
    c = client.page
    conversation = c.url.rsplit("/c/", 1)[1]

    texts = {key: f"{key} {suffix}" for key in ("one", "two", "three", "four", "five")}
    sent_plaintexts.extend(texts.values())
    open_conversation(t, name)
    for key in ("one", "two", "three"):
        _sent(t, texts[key])
    expect(message_items(c, texts["three"])).to_have_count(1)
    for key in ("four", "five"):
        _sent(c, texts[key])
    expect(message_items(t, texts["five"])).to_have_count(1)
    # Nothing is wrong yet: no notice on either side.
    expect(t.locator(".order-notice")).to_have_count(0)
    expect(c.locator(".order-notice")).to_have_count(0)

    # The server withholds message 2 (the therapist's "two") and numbers the rest 1 to 4,
    # then swaps 3 and 4 (the client's "four" and "five").
    withhold(server, uuid.UUID(conversation), 2, last_seq=5)
    swap(server, uuid.UUID(conversation), 3, 4)

    # The client, signing in afresh on a phone: the therapist's missing message, named with
    # the therapist's own times, and the client's own two messages out of order.
    again = new_page(390, 844)
    a = again.page
    sign_in(a, server.url, email, PASSWORD)
    expect(message_items(a, texts["five"])).to_have_count(1)
    notices = a.locator(".order-notice")
    expect(notices).to_have_count(3)
    expect(notices.nth(0)).to_have_text(
        re.compile(
            r"^A message from Dr\. Dana Demo, written (between .+ and|at) .+, did not arrive\. "
            r"If it mattered, ask Dr\. Dana Demo about it\.$"
        )
    )
    expect(notices.nth(1)).to_have_text(
        "Dr. Dana Demo wrote this after reading a message that has not reached this browser."
    )
    expect(notices.nth(2)).to_have_text(
        "This message from you was written before the one above it, but arrived after it."
    )
    # Each notice sits just above the message it is about.
    order = a.locator(".message-list > li:not(.day-separator)").evaluate_all(
        "items => items.map(i => i.classList.contains('order-notice') ? 'notice' : "
        "i.querySelector('.message-text').textContent)"
    )
    assert order == [
        texts["one"],
        "notice",
        "notice",
        texts["three"],
        texts["five"],
        "notice",
        texts["four"],
    ], order
    screenshot(a, "order-notices-phone")
    check_accessibility(a, "a conversation with order notices")

    # The therapist, signing in afresh: their own message did not arrive, and the client's
    # two messages arrived out of the order written.
    desk = new_page(1280, 800)
    d = desk.page
    sign_in(d, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(d, name)
    expect(message_items(d, texts["five"])).to_have_count(1)
    notices = d.locator(".order-notice")
    expect(notices).to_have_count(3)
    expect(notices.nth(0)).to_have_text(
        re.compile(
            rf"^A message you wrote (between .+ and|at) .+ did not arrive here, so {name} may "
            r"not have it either\. If it mattered, send it again\.$"
        )
    )
    expect(notices.nth(1)).to_have_text(
        "You wrote this after reading a message that has not reached this browser."
    )
    expect(notices.nth(2)).to_have_text(
        f"This message from {name} was written before the one above it, but arrived after it."
    )
    screenshot(d, "order-notices-desktop")
    for watched in (therapist, client, again, desk):
        watched.assert_clean()
