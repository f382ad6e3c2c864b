"""An admin records a client's request to erase their discharged conversation, from the
console's records: the row says until when retention keeps it, the dialog asks why (and
refuses no reason), then the worker erases it and the row says so; the client, signing
in, is told the conversation was erased and sees none of it. Checked with axe-core and
saved to test-artifacts/ at desktop and phone widths."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from confide_client import ConfideClient
from tests.browser.conftest import Demo
from tests.browser.pages import Watched, check_accessibility, expect, screenshot, sign_in
from tests.browser.peers import as_user
from tests.browser.server import Server
from tests.browser.test_a_therapist_renames_archives_and_copies_a_link_again import (
    PASSWORD,
    new_client,
)


def test_an_admin_erases_a_discharged_conversation_on_request(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Erin {suffix}", f"erin-{suffix}@example.invalid"
    conversation = new_client(server, demo, name, email)

    last_words = f"Take care, {name}"
    sent_plaintexts.append(last_words)

    async def discharge(therapist: ConfideClient) -> None:
        await therapist.send_text(conversation, last_words)
        await therapist.discharge_conversation(conversation)

    as_user(server.url, demo.therapist.email, demo.therapist.password, discharge)
    admin = server.demo["admin"]

    phone = new_page(390, 844).page
    sign_in(phone, server.url, admin.email, admin.password)
    phone.goto(server.url + "/#/admin/records")
    expect(phone.get_by_role("heading", name="Discharged conversations")).to_be_visible()
    row = phone.locator(f'.records-table tr[data-conversation="{conversation}"]')
    expect(row).to_contain_text("Kept until")
    screenshot(phone, "records-phone")
    check_accessibility(phone, "records, phone")

    page = new_page(1280, 800).page
    sign_in(page, server.url, admin.email, admin.password)
    page.goto(server.url + "/#/admin/records")
    row = page.locator(f'.records-table tr[data-conversation="{conversation}"]')
    expect(row.locator("td").nth(0)).to_have_text(name)
    expect(row.locator("td").nth(1)).not_to_have_text("—")

    # Cancelled by Escape: nothing changes, and the focus is back on the row's button.
    action = page.get_by_role("button", name=f"Erase now: the conversation with {name}")
    action.click()
    dialog = page.get_by_role("dialog", name=f"Erase the conversation with {name} now?")
    expect(dialog).to_be_visible()
    check_accessibility(page, "erasure dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(action).to_be_focused()
    expect(row).to_contain_text("Kept until")

    # No reason: refused, with the reason field named.
    action.click()
    dialog.get_by_role("button", name="Erase", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("Choose why")
    dialog.get_by_label("Why").select_option("client_request")
    screenshot(page, "records-erasure-dialog-desktop")
    dialog.get_by_role("button", name="Erase", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="is recorded")).to_be_visible()
    expect(row).not_to_contain_text("Kept until")
    expect(action).to_have_count(0)

    # The job worker (one on its own here: the test's server runs none) erases it; the
    # records, shown again, say when.
    server.stack.manage("db_worker", "--batch", "--no-startup-delay")
    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="People").click()
    nav.get_by_role("link", name="Records").click()
    expect(row).to_contain_text("Erased")
    screenshot(page, "records-desktop")
    check_accessibility(page, "records, desktop")

    client = new_page(390, 844).page
    sign_in(client, server.url, email, PASSWORD)
    expect(client.locator("#read-only-notice")).to_contain_text("was erased")
    expect(client.get_by_text(last_words)).to_have_count(0)
    # Nothing of it is left to export or to account for: those actions are gone too.
    expect(client.get_by_role("button", name="Export")).to_be_hidden()
    expect(client.get_by_role("link", name="Disclosures")).to_be_hidden()
    screenshot(client, "records-erased-client-phone")

    # The request is in the audit log, with its reason.
    page.goto(server.url + "/#/admin/audit")
    page.get_by_label("Kind").select_option("erasure_requested")
    page.get_by_role("button", name="Show", exact=True).click()
    requested = page.locator(".audit-table tbody tr", has_text=admin.email).first
    expect(requested).to_contain_text("client_request")
