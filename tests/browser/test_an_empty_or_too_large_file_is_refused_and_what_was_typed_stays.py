"""On a server whose files may be at most 100,000 bytes (CONFIDE_ATTACHMENT_MAX_BYTES), a
client attaches an empty file (refused as it is chosen), then a file over the limit: the
page does not know the limit yet, so the server refuses the upload before anything is
stored and the page says the limit; from then on a file over it is refused as it is
chosen. Each time the words typed stay in the composer, and once the big file is removed
the message goes with the file that fits. An upload cancelled leaves the words and the
file too."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import files
from tests.browser.conftest import demo_accounts
from tests.browser.pages import (
    Watched,
    check_accessibility,
    expect,
    message_items,
    open_conversation,
    screenshot,
    sign_in,
)
from tests.browser.server import Server, make_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

LIMIT = 100_000


@pytest.fixture(scope="module")
def small_files_server(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Iterator[Server]:
    server = make_server(
        tmp_path_factory.mktemp("small-files-server"),
        {"CONFIDE_ATTACHMENT_MAX_BYTES": str(LIMIT)},
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_an_empty_or_too_large_file_is_refused_and_what_was_typed_stays(
    small_files_server: Server,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
    tmp_path: Path,
) -> None:
    server = small_files_server
    demo = demo_accounts(server)
    words = "Two pages from this week"
    sent_plaintexts.append(words)
    empty = tmp_path / "empty notes.txt"
    empty.write_bytes(b"")
    large = tmp_path / "whole notebook.png"
    large.write_bytes(files.png(400, 300))
    larger = tmp_path / "another notebook.png"
    larger.write_bytes(files.png(420, 300, seed=9))
    small = tmp_path / "one page.png"
    small.write_bytes(files.png(120, 90, seed=5))

    client = new_page(390, 844)
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    text = c.locator("#composer-text")
    text.fill(words)
    alert = c.locator(".composer .form-error")

    # Empty: refused as it is chosen, nothing attached.
    c.get_by_label("Attach files").set_input_files(str(empty))
    expect(alert).to_have_text("“empty notes.txt” is empty, so it was not attached.")
    expect(c.locator(".file-chip")).to_have_count(0)
    expect(text).to_have_value(words)

    # Over the limit, not known yet: the server refuses it, and the page says the limit.
    c.get_by_label("Attach files").set_input_files([str(large), str(small)])
    expect(c.locator(".file-chip")).to_have_count(2)
    text.press("Enter")
    expect(alert).to_have_text(
        "“whole notebook.png” is too large: a file can be at most 98 KB."
        " Remove it to send the rest."
    )
    expect(c.locator(".file-chip", has_text="whole notebook.png")).to_contain_text("Not sent")
    expect(text).to_have_value(words)
    screenshot(c, "attachments-refused-phone")
    check_accessibility(c, "a file refused for its size, phone")

    # Known now: another file over it is refused as it is chosen.
    c.get_by_label("Attach files").set_input_files(str(larger))
    expect(alert).to_contain_text("“another notebook.png” is ")
    expect(alert).to_contain_text("a file can be at most 98 KB, so it was not attached.")
    expect(c.locator(".file-chip")).to_have_count(2)

    # Cancelled while its first part hangs: the words and the file stay.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    first_part = re.compile(r".*/api/attachments/[0-9a-f-]+/parts/0$")
    c.route(first_part, hold)
    c.get_by_role("button", name="Remove whole notebook.png").click()
    expect(c.locator(".file-chip")).to_have_count(1)
    # Cancelled once the first part is on its way (and held), not before it leaves.
    with c.expect_request(first_part):
        text.press("Enter")
    cancel = c.get_by_role("button", name="Cancel the upload of one page.png")
    cancel.click()
    expect(alert).to_have_text("Upload cancelled. Your message and files are still here.")
    expect(c.locator(".file-chip", has_text="one page.png")).to_be_visible()
    expect(text).to_have_value(words)
    assert len(held) == 1
    c.unroute(first_part)
    with contextlib.suppress(Exception):  # the page has given up on it already
        held[0].abort()

    # Sent at last, with the file that fits.
    text.press("Enter")
    expect(c.locator(".file-chip")).to_have_count(0, timeout=15_000)
    expect(message_items(c, words)).to_have_count(1)

    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, "Casey Client")
    expect(t.locator('.message.theirs img.file-preview[alt="one page.png"]')).to_be_visible(
        timeout=15_000
    )

    # The server's one refusal is the browser's one complaint.
    refused = [p for p in client.problems if "status of 413" in p and "/attachments" in p]
    assert len(refused) == 1, client.problems
    client.problems.remove(refused[0])
    client.assert_clean()
    therapist.assert_clean()
