"""A therapist files their inbox: renames a client for themselves (with the keyboard),
archives the conversation, finds it under "Show archived", and sees it come back when the
client writes. Under "Invite a client", "Copy link again" gives a pending invitation a
new link, and the one given before opens nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from confide_client import ConfideClient
from tests.browser import peers
from tests.browser.conftest import Demo
from tests.browser.pages import Watched, check_accessibility, expect, screenshot, sign_in
from tests.browser.peers import run
from tests.browser.server import Server

PASSWORD = "filing needs a long enough password"


def new_client(server: Server, demo: Demo, name: str, email: str) -> uuid.UUID:
    """The therapist invites a client, who signs up and accepts the agreement (Python)."""
    therapist = demo.therapist
    return peers.new_client(server.url, therapist.email, therapist.password, name, email, PASSWORD)


def test_a_therapist_renames_archives_and_copies_a_link_again(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Robin {suffix}", f"robin-{suffix}@example.invalid"
    label = f"R. {suffix} (Thursdays)"
    conversation = new_client(server, demo, name, email)
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    main_list = t.get_by_role("list", name="Conversations", exact=True)
    archived_list = t.get_by_role("list", name="Archived conversations")
    expect(main_list.locator(".inbox-item", has_text=name)).to_be_visible()

    # Rename, by keyboard only: Escape leaves the name as it was, Enter keeps the new one.
    t.get_by_role("button", name=f"Rename {name}").focus()
    t.keyboard.press("Enter")
    field = t.get_by_label(f"Your name for {name}")
    expect(field).to_be_focused()
    expect(
        t.get_by_text("Visible to you only; stored on the server like the client's name")
    ).to_be_visible()
    screenshot(t, "inbox-renaming")
    check_accessibility(t, "inbox renaming a client")
    t.keyboard.type("Not kept")
    t.keyboard.press("Escape")
    expect(t.get_by_role("button", name=f"Rename {name}")).to_be_focused()
    t.keyboard.press("Enter")
    t.keyboard.type(label)
    t.keyboard.press("Enter")
    renamed = t.get_by_role("button", name=f"Rename {label}")
    expect(renamed).to_be_focused()
    row = main_list.locator(".inbox-item", has_text=label)
    expect(row).to_contain_text(f"({name})")
    listed = t.request.get(server.url + "/api/conversations").json()["conversations"]
    assert {c["id"]: c["label"] for c in listed}[str(conversation)] == label

    # Archive: the row leaves the list, and "Show archived (1)" is where it went.
    t.get_by_role("button", name=f"Archive {label}").click()
    expect(main_list.locator(".inbox-item", has_text=label)).to_have_count(0)
    toggle = t.get_by_role("button", name="Show archived (1)")
    expect(toggle).to_be_focused()
    expect(t.get_by_role("status").filter(has_text=f"{label} archived.")).to_be_visible()
    toggle.press("Enter")
    expect(t.get_by_role("button", name="Hide archived (1)")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(archived_list.locator(".inbox-item", has_text=label)).to_be_visible()
    expect(t.get_by_role("button", name=f"Unarchive {label}")).to_be_visible()
    t.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    screenshot(t, "inbox-archived-desktop")
    t.set_viewport_size({"width": 390, "height": 844})
    screenshot(t, "inbox-archived-phone")
    check_accessibility(t, "inbox with an archived client")
    t.set_viewport_size({"width": 1280, "height": 800})

    # The client writes: the conversation comes back to the list, unread.
    text = f"Still there? {suffix}"
    sent_plaintexts.append(text)

    async def write() -> None:
        client = ConfideClient(server.url, backfill=False)
        try:
            await client.sign_in(email, PASSWORD)
            await client.connect()
            await client.send_text(conversation, text)
        finally:
            await client.close()

    run(write)
    back = main_list.locator(".inbox-item", has_text=label)
    expect(back).to_be_visible()
    expect(back.locator(".badge")).to_have_text("1")
    expect(
        t.get_by_role("status").filter(has_text=f"{label} wrote: back in the list.")
    ).to_be_visible()
    expect(archived_list.locator(".inbox-item")).to_have_count(0)
    expect(t.get_by_role("button", name="Hide archived (0)")).to_be_visible()

    # Copy link again: a new link for a pending invitation; the first one opens nothing.
    invitee = f"Quinn {suffix}"
    t.get_by_label("Client's name").fill(invitee)
    t.get_by_role("button", name="Create invitation link").click()
    first = t.get_by_label(f"Invitation link for {invitee}").input_value()
    t.get_by_role("button", name=f"Copy link again for {invitee}").click()
    new_field = t.get_by_label(f"New invitation link for {invitee}")
    expect(new_field).to_have_value(re.compile(r"/invite#[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{43}$"))
    second = new_field.input_value()
    assert second != first
    expect(t.get_by_text("The link given before no longer works")).to_be_visible()
    expect(t.locator(".invitation-item", has_text=invitee)).to_have_count(1)
    t.set_viewport_size({"width": 390, "height": 844})
    screenshot(t, "inbox-copy-link-again-phone")
    check_accessibility(t, "inbox with a new link for a pending invitation")
    therapist.assert_clean()

    old, new = new_page(), new_page()
    old.page.goto(first)
    expect(old.page.get_by_role("heading", name="This invitation cannot be used")).to_be_visible()
    new.page.goto(second)
    expect(new.page.get_by_role("heading", name="Dr. Dana Demo invited you")).to_be_visible()
    new.assert_clean()
