"""A practice from nothing, in the browser: ``confide create_practice`` prints the first
admin's link; the admin joins, sets up an authenticator app as staff must, sets the
practice up and adds a therapist, who joins through their own link (and sets up an app
too) and invites a client; the two converse under the practice's crisis
lines and reply promise; a new agreement version is accepted again before the client's
next message; a deactivated therapist is signed out at once.

Each console screen is checked with axe-core and saved to test-artifacts/ at phone and
desktop widths."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from tests.browser.pages import (
    Watched,
    accept_agreement,
    check_accessibility,
    enrol_authenticator_app,
    expect,
    message_items,
    screenshot,
    send,
)
from tests.browser.server import Server

PASSWORD = "harbor lights over quiet water"
LINK = re.compile(r"^  (http://\S+/setup#[A-Za-z0-9_-]+)$", re.MULTILINE)


def join(page: Watched, link: str, heading: str) -> None:
    """Opens a setup or invitation link's form, already filled, to the recovery key and
    past it."""
    p = page.page
    p.get_by_role("button", name="Create my account").click()
    expect(p.get_by_role("heading", name="Your recovery key")).to_be_visible(timeout=15_000)
    assert "#" not in p.url, f"{heading}: the token stays out of the address bar once used"
    last = p.locator(".recovery-key span").all_inner_texts()[-1]
    p.get_by_label("Type the last group of your recovery key").fill(last)
    p.get_by_role("button", name=re.compile("I have saved it")).click()


def test_a_practice_starts_from_nothing_and_runs_itself(
    server: Server, new_page: Callable[..., Watched], sent_plaintexts: list[str]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    printed = server.stack.manage(
        "create_practice",
        "--name",
        f"Harbor Therapy {suffix}",
        "--time-zone",
        "America/New_York",
        "--admin-email",
        f"ada-{suffix}@harbor.invalid",
        "--url",
        server.url,
    )
    found = LINK.search(printed)
    assert found is not None, printed

    # The first admin opens the link, makes their keys and lands in the console.
    admin = new_page(1280, 800)
    a = admin.page
    a.goto(found.group(1))
    expect(a.get_by_role("heading", name=f"Join Harbor Therapy {suffix}")).to_be_visible()
    expect(a.get_by_text(f"ada-{suffix}@harbor.invalid")).to_be_visible()
    a.get_by_label("Your name").fill("Ada Admin")
    a.get_by_label("Choose a password").fill(PASSWORD)
    a.get_by_label("Type the password again").fill(PASSWORD)
    screenshot(a, "setup-form")
    check_accessibility(a, "setup form")
    join(admin, found.group(1), "admin")
    # Staff set up a second factor before anything else.
    expect(a.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    check_accessibility(a, "two-step sign-in, required")
    enrol_authenticator_app(a)
    expect(a.get_by_role("heading", name=f"People · Harbor Therapy {suffix}")).to_be_visible()

    # The practice's settings: a third crisis line and a one-day promise.
    a.get_by_role("link", name="Practice settings").click()
    a.get_by_role("button", name="Add a line").click()
    a.locator(".crisis-line").last.get_by_label("Label").fill("Crisis Text Line (text HOME)")
    a.locator(".crisis-line").last.get_by_label("Number").fill("741741")
    a.get_by_label("Reply-time promise").fill("Usually answered within one business day.")
    a.get_by_role("button", name="Save settings").click()
    expect(a.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    screenshot(a, "console-practice")
    check_accessibility(a, "console: practice settings")

    # A therapist is added with a one-time link. (The settings page has a "Practice name"
    # field: wait for the people page before typing a name.)
    a.get_by_role("link", name="People").click()
    expect(a.get_by_role("heading", name=f"People · Harbor Therapy {suffix}")).to_be_visible()
    a.get_by_label("Name", exact=True).fill("Dr. Theo Harbor")
    a.get_by_label("Email").fill(f"theo-{suffix}@harbor.invalid")
    a.get_by_role("button", name="Create setup link").click()
    setup_field = a.get_by_role("textbox", name="Setup link for Dr. Theo Harbor")
    expect(setup_field).to_have_value(re.compile(r"/setup#[A-Za-z0-9_-]{20,}$"))
    therapist_link = setup_field.input_value()
    expect(a.locator("tr", has_text=f"theo-{suffix}@harbor.invalid")).to_contain_text("Pending")
    screenshot(a, "console-people")
    check_accessibility(a, "console: people")

    # The therapist joins in their own browser and invites a client.
    therapist = new_page(1280, 800)
    t = therapist.page
    t.goto(therapist_link)
    expect(t.get_by_role("heading", name=f"Join Harbor Therapy {suffix}")).to_be_visible()
    expect(t.get_by_label("Your name")).to_have_value("Dr. Theo Harbor")
    t.get_by_label("Choose a password").fill(PASSWORD)
    t.get_by_label("Type the password again").fill(PASSWORD)
    join(therapist, therapist_link, "therapist")
    expect(t.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    enrol_authenticator_app(t)
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()
    t.get_by_label("Client's name").fill("Robin")
    t.get_by_role("button", name="Create invitation link").click()
    invitation = t.get_by_label("Invitation link for Robin").input_value()

    # The client joins; the practice's crisis lines and promise are shown to them.
    client = new_page()
    c = client.page
    c.goto(invitation)
    c.get_by_label("Email").fill(f"robin-{suffix}@example.invalid")
    c.get_by_label("Choose a password").fill(PASSWORD)
    c.get_by_label("Type the password again").fill(PASSWORD)
    join(client, invitation, "client")
    accept_agreement(c)
    crisis = c.get_by_role("complementary", name="Crisis support")
    expect(crisis).to_contain_text("Crisis Text Line (text HOME): 741741")
    expect(crisis.get_by_role("link", name="988")).to_have_attribute("href", "tel:988")
    expect(c.locator("#composer-hint")).to_have_text(
        "Usually answered within one business day. Not for emergencies."
    )
    first = f"Hello from Robin {suffix}"
    sent_plaintexts.append(first)
    send(c, first)
    t.locator(".inbox-item", has_text="Robin").click()
    expect(message_items(t, first)).to_be_visible()
    reply = f"Hello Robin, this is Theo {suffix}"
    sent_plaintexts.append(reply)
    send(t, reply)
    expect(message_items(c, reply)).to_be_visible()

    # A new agreement version: the client accepts it again before their next message.
    a.get_by_role("link", name="Messaging agreement").click()
    expect(a.locator("tr", has_text="Robin")).to_contain_text("2025-1")
    text = a.get_by_label("Text").first
    text.fill(text.input_value() + "\n\nMessages are read on weekdays only.")
    a.get_by_role("button", name="Publish as a new version").click()
    expect(a.get_by_role("status").filter(has_text="is published")).to_be_visible()
    screenshot(a, "console-agreement")
    check_accessibility(a, "console: agreement")
    later = f"A question after the change {suffix}"
    sent_plaintexts.append(later)
    send(c, later)
    expect(c.get_by_text("Messages are read on weekdays only.")).to_be_visible(timeout=15_000)
    accept_agreement(c)
    expect(message_items(t, later)).to_be_visible(timeout=15_000)
    a.get_by_role("link", name="People").click()
    a.get_by_role("link", name="Messaging agreement").click()
    expect(a.locator("tr", has_text="Robin")).not_to_contain_text("2025-1")

    # Deactivating the therapist signs them out at once.
    a.get_by_role("link", name="People").click()
    row = a.locator("tr[data-member]", has_text="Dr. Theo Harbor")
    row.get_by_role("button", name="Deactivate Dr. Theo Harbor").click()
    row.get_by_role("button", name="Deactivate Dr. Theo Harbor").click()
    expect(row).to_contain_text("Deactivated")
    expect(t.get_by_role("heading", name="Sign in")).to_be_visible(timeout=15_000)
    a.set_viewport_size({"width": 390, "height": 844})
    screenshot(a, "console-people-phone")
    check_accessibility(a, "console: people, phone width")
    for page in (admin, therapist, client):
        page.assert_clean()
