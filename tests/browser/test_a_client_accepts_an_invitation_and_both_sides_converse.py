"""The whole flow: a therapist invites, the client signs up through the link in another
browser, and the two exchange messages both ways, each shown on the other side within a
second, with read receipts, a typing indicator and the safety number.

Each main screen on the way is checked with axe-core (no serious or critical violation)
and saved to test-artifacts/."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from tests.browser.conftest import Demo
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
from tests.browser.server import Server

CLIENT_PASSWORD = "a calm river at dawn"


def test_a_client_accepts_an_invitation_and_both_sides_converse(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    therapist = new_page()
    t = therapist.page
    t.goto(server.url + "/")
    expect(t.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(t.get_by_text("call or text 988")).to_be_visible()
    screenshot(t, "sign-in")
    check_accessibility(t, "sign-in")
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()

    # The therapist invites a new client and gets a one-time link.
    suffix = uuid.uuid4().hex[:6]
    client_name = f"Robin {suffix}"
    t.get_by_label("Client's name").fill(client_name)
    t.get_by_role("button", name="Create invitation link").click()
    link_field = t.get_by_label(f"Invitation link for {client_name}")
    expect(link_field).to_have_value(re.compile(r"/invite#[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{43}$"))
    link = link_field.input_value()
    screenshot(t, "inbox-invitation")
    check_accessibility(t, "inbox with an invitation link")

    # The client opens it in another browser, sees who invited them, and signs up.
    client = new_page()
    c = client.page
    c.goto(link)
    expect(c.get_by_role("heading", name="Dr. Dana Demo invited you")).to_be_visible()
    expect(c.get_by_role("button", name="Quick exit")).to_be_visible()
    expect(c.get_by_label("Your name")).to_have_value(client_name)
    c.get_by_label("Email").fill(f"robin-{suffix}@example.invalid")
    c.get_by_label("Choose a password").fill(CLIENT_PASSWORD)
    c.get_by_label("Type the password again").fill(CLIENT_PASSWORD + "x")
    c.get_by_role("button", name="Create my account").click()
    expect(c.get_by_role("alert")).to_have_text("The two passwords are not the same.")
    c.get_by_label("Type the password again").fill(CLIENT_PASSWORD)
    screenshot(c, "invitation-form")
    check_accessibility(c, "invitation form")
    c.get_by_role("button", name="Create my account").click()

    # The recovery key is shown once and must be confirmed.
    expect(c.get_by_role("heading", name="Your recovery key")).to_be_visible(timeout=15_000)
    assert "#" not in c.url, "the token stays out of the address bar once used"
    groups = c.locator(".recovery-key span").all_inner_texts()
    assert len(groups) == 14 and all(re.fullmatch(r"[A-Z2-7]{4}", g) for g in groups)
    screenshot(c, "recovery-key")
    check_accessibility(c, "recovery key")
    c.get_by_label("Type the last group of your recovery key").fill(
        "AAAA" if groups[-1] != "AAAA" else "BBBB"
    )
    c.get_by_role("button", name=re.compile("I have saved it")).click()
    expect(c.get_by_role("alert")).to_contain_text("not the last group")
    c.get_by_label("Type the last group of your recovery key").fill(groups[-1].lower())
    c.get_by_role("button", name=re.compile("I have saved it")).click()

    # The messaging agreement, with the limits of confidentiality, must be accepted.
    expect(c.get_by_role("heading", name="Messaging agreement")).to_be_visible()
    expect(c.get_by_text("imminent risk of serious harm", exact=False)).to_be_visible()
    expect(c.get_by_role("heading", name="Not for emergencies")).to_be_visible()
    screenshot(c, "agreement")
    check_accessibility(c, "agreement")
    c.get_by_role("button", name="Continue").click()
    expect(c.get_by_role("alert")).to_contain_text("tick the box")
    accept_agreement(c)
    expect(c.get_by_role("heading", name="Dr. Dana Demo")).to_be_visible()
    # Signed in, the crisis band lists the practice's own lines (988 and 911 by default).
    expect(c.get_by_text("Suicide & Crisis Lifeline (call or text): 988")).to_be_visible()
    recorded = c.request.get(server.url + "/api/me").json()["user"]["agreement"]
    assert recorded["version"] == "2025-1", "the acceptance is recorded on the server"

    # The therapist's open inbox learned of the new conversation from the server's
    # conversation_added event, before any message (it does not poll).
    expect(t.locator(".inbox-item", has_text=client_name)).to_be_visible(timeout=2_000)
    [added] = [f for _, f in therapist.frames_of("received", "conversation_added")]
    assert set(added) == {"type", "conversation"}, "the event carries the id only"
    assert c.url.endswith(f"#/c/{added['conversation']}")

    # Client → therapist, shown within a second; the new conversation appears in the inbox.
    first = f"Hello, this is {client_name}. Could we move Thursday? {suffix}"
    sent_plaintexts.append(first)
    send(c, first)
    started = time.monotonic()
    expect(t.locator(".inbox-item", has_text=client_name)).to_be_visible(timeout=1_000)
    inbox_delay = time.monotonic() - started
    expect(t.locator(".inbox-item", has_text=client_name).locator(".badge")).to_have_text("1")
    expect(c.locator(".message.mine").last).to_have_attribute("data-state", "sent")
    screenshot(t, "inbox")
    check_accessibility(t, "inbox")
    open_conversation(t, client_name)
    expect(message_items(t, first)).to_have_count(1)
    assert inbox_delay < 1.0

    # The therapist has now read it: the client sees "Read".
    expect(c.locator(".message.mine").last).to_have_attribute("data-state", "read")

    # Typing indicator, then therapist → client within a second.
    t.locator("#composer-text").press_sequentially("Of course")
    expect(c.locator(".typing")).to_have_text("Dr. Dana Demo is typing…")
    reply = f"Of course. Thursday at 4 works. {suffix}"
    sent_plaintexts.append(reply)
    t.locator("#composer-text").fill(reply)
    t.locator("#composer-text").press("Enter")
    started = time.monotonic()
    expect(message_items(c, reply)).to_have_count(1, timeout=1_000)
    assert time.monotonic() - started < 1.0
    expect(c.locator(".typing")).to_have_text("")
    screenshot(t, "conversation-therapist")
    screenshot(c, "conversation-client")
    check_accessibility(t, "conversation (therapist)")
    check_accessibility(c, "conversation (client)")

    # Both see the same safety number.
    t.get_by_role("link", name="Safety number").click()
    c.get_by_role("link", name="Safety number").click()
    expect(t.locator("canvas.qr")).to_be_visible()
    digits_t = t.locator(".safety-digits span").all_inner_texts()
    digits_c = c.locator(".safety-digits span").all_inner_texts()
    assert len(digits_t) == 12 and all(re.fullmatch(r"\d{5}", d) for d in digits_t)
    assert digits_t == digits_c
    screenshot(c, "safety-number")
    check_accessibility(c, "safety number")
    c.get_by_text("Show the code as text").click()
    check_accessibility(c, "safety number, code as text")

    therapist.assert_clean()
    client.assert_clean()
