"""The accounting of disclosures in two browsers: the therapist records a disclosure from
the conversation (a dialog, by keyboard), the client opens "Disclosures" on a phone and
reads it, and sees the next one arrive while the view is open. A record whose date the
server changed is shown as unverifiable, not dropped; and once the conversation is
discharged, a disclosure is refused with words that say why."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.browser import peers
from tests.browser.conftest import Demo
from tests.browser.pages import Watched, check_accessibility, expect, screenshot, sign_in
from tests.browser.server import Server

PASSWORD = "disclosures need a long enough password"


def new_client(server: Server, demo: Demo, name: str, email: str) -> uuid.UUID:
    """The therapist invites a client, who signs up and accepts the agreement (Python)."""
    therapist = demo.therapist
    return peers.new_client(server.url, therapist.email, therapist.password, name, email, PASSWORD)


def test_a_therapist_records_a_disclosure_the_client_reads_in_their_accounting(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Jordan {suffix}", f"jordan-{suffix}@example.invalid"
    conversation = new_client(server, demo, name, email)
    recipient = f"Officer J. Ruiz {suffix}, Oakland Police Department"
    information = f"The threat Jordan stated on Monday {suffix}\nand the address given"
    purpose = f"To warn the person named, as the law requires {suffix}"
    sent_plaintexts.extend([recipient, information, purpose])

    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    t.locator(".inbox-item", has_text=name).click()
    expect(t.get_by_role("heading", name=name)).to_be_visible()

    screenshot(t, "disclosure-conversation-desktop")
    # The dialog, by keyboard: it opens on the date, and an empty field is named.
    record = t.get_by_role("button", name="Record a disclosure")
    record.focus()
    t.keyboard.press("Enter")
    dialog = t.get_by_role("dialog", name="Record a disclosure")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Date of the disclosure")).to_be_focused()
    dialog.get_by_role("button", name="Record the disclosure").click()
    expect(dialog.get_by_role("alert")).to_have_text("Fill in the legal basis.")
    expect(dialog.get_by_label("Legal basis")).to_be_focused()
    t.keyboard.press("ArrowDown")
    expect(dialog.locator(".form-error")).to_be_empty()
    dialog.get_by_label("Date of the disclosure").fill("2026-11-23")
    dialog.get_by_label("Legal basis").select_option("duty_to_protect")
    dialog.get_by_label("Disclosed to").fill(recipient)
    dialog.get_by_label("What was disclosed").fill(information)
    dialog.get_by_label("Purpose").fill(purpose)
    screenshot(t, "disclosure-dialog-desktop")
    check_accessibility(t, "the dialog that records a disclosure")
    dialog.get_by_role("button", name="Record the disclosure").click()
    expect(dialog).to_have_count(0)
    expect(record).to_be_focused()
    expect(t.locator("#announcer")).to_have_text("The disclosure was recorded in the accounting.")

    # What the server holds: the date and basis in the clear, the description sealed.
    [stored] = t.request.get(f"{server.url}/api/conversations/{conversation}/disclosures").json()[
        "disclosures"
    ]
    assert (stored["disclosed_on"], stored["legal_basis"]) == ("2026-11-23", "duty_to_protect")
    assert suffix not in str(stored)

    t.get_by_role("link", name="Disclosures").click()
    expect(t.get_by_role("heading", name="Accounting of disclosures")).to_be_visible()
    entry = t.locator(".disclosure")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Duty to protect or warn")
    expect(entry).to_contain_text(recipient)
    expect(entry).to_contain_text("Recorded by you")
    screenshot(t, "disclosures-therapist-desktop")

    # The client, on a phone: from the conversation to the accounting.
    client = new_page(390, 844)
    c = client.page
    sign_in(c, server.url, email, PASSWORD)
    c.get_by_role("link", name="Disclosures").click()
    expect(c.get_by_role("heading", name="Accounting of disclosures")).to_be_visible()
    mine = c.locator(".disclosure")
    expect(mine).to_have_count(1)
    expect(mine.get_by_role("heading")).to_contain_text("Duty to protect or warn")
    expect(mine).to_contain_text(recipient)
    expect(mine).to_contain_text(purpose)
    expect(mine.locator("dd").nth(1)).to_have_text(information)
    expect(c.get_by_role("button", name="Record a disclosure")).to_have_count(0)
    screenshot(c, "disclosures-client-phone")
    check_accessibility(c, "the client's accounting of disclosures")

    # The next one arrives while the client's view is open (the socket's event).
    t.get_by_role("button", name="Record a disclosure").click()
    dialog.get_by_label("Date of the disclosure").fill("2026-11-25")
    dialog.get_by_label("Legal basis").select_option("client_authorised")
    dialog.get_by_label("Disclosed to").fill(f"Dr. Lee {suffix}")
    dialog.get_by_label("What was disclosed").fill(f"Diagnosis and dates {suffix}")
    dialog.get_by_label("Purpose").fill(f"Coordination of care, asked in writing {suffix}")
    sent_plaintexts.extend(
        [
            f"Dr. Lee {suffix}",
            f"Diagnosis and dates {suffix}",
            f"Coordination of care, asked in writing {suffix}",
        ]
    )
    dialog.get_by_role("button", name="Record the disclosure").press("Enter")
    expect(dialog).to_have_count(0)
    expect(mine).to_have_count(2)
    expect(mine.nth(1)).to_contain_text("Authorised by the client")
    expect(c.get_by_role("status").filter(has_text="2 disclosures recorded.")).to_be_visible()

    # The server changes the date of the first: shown as not verifying, never dropped.
    server.execute(
        "UPDATE messaging_disclosure SET disclosed_on = ? WHERE id = ?",
        "2026-11-22",
        uuid.UUID(stored["id"]),
    )
    c.locator(".back a").click()
    c.get_by_role("link", name="Disclosures").click()
    expect(c.get_by_role("heading", name="Accounting of disclosures")).to_be_visible()
    expect(mine).to_have_count(2)
    changed = mine.nth(0)
    expect(changed.locator(".disclosure-unreadable")).to_contain_text(
        "the date or legal basis the portal lists is not the one the therapist sealed"
    )
    expect(changed).not_to_contain_text(recipient)
    expect(mine.nth(1)).to_contain_text(f"Dr. Lee {suffix}")
    screenshot(c, "disclosures-client-phone-altered")
    c.set_viewport_size({"width": 1280, "height": 800})
    screenshot(c, "disclosures-client-desktop")

    # Discharged while the dialog is open: refused, and the dialog says why.
    t.evaluate(f"location.hash = '#/c/{conversation}'")
    t.get_by_role("button", name="Record a disclosure").click()
    server.execute(
        "UPDATE messaging_conversation SET status = 'discharged' WHERE id = ?", conversation
    )
    try:
        dialog.get_by_label("Legal basis").select_option("court_order")
        dialog.get_by_label("Disclosed to").fill("Court")
        dialog.get_by_label("What was disclosed").fill("Dates")
        dialog.get_by_label("Purpose").fill("Order")
        dialog.get_by_role("button", name="Record the disclosure").click()
        expect(dialog.get_by_role("alert")).to_contain_text(
            "Disclosures are recorded only while the conversation is active; this one is"
            " discharged."
        )
        screenshot(t, "disclosure-refused-discharged-desktop")
        t.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
    finally:
        server.execute(
            "UPDATE messaging_conversation SET status = 'active' WHERE id = ?", conversation
        )
    listed = t.request.get(f"{server.url}/api/conversations/{conversation}/disclosures").json()
    assert len(listed["disclosures"]) == 2
