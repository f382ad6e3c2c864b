"""A client on a phone sends a photo of a journal page (chosen with "Attach files"); their
therapist, on a desktop, sees it previewed in the conversation, downloads it, and sends a
worksheet PDF back by dropping it on the conversation; the client sees the PDF as a row
with its name and size and downloads it. Every download is the file sent, byte for byte,
under its own name; neither file's name nor the words reach the server's database (the
canary). Screenshots at phone and desktop widths, light and dark, checked with axe-core."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from crypto import verify_export
from tests.browser import files
from tests.browser.conftest import Demo
from tests.browser.files import download
from tests.browser.pages import (
    Watched,
    check_accessibility,
    expect,
    message_items,
    open_conversation,
    screenshot,
    sign_in,
)
from tests.browser.server import Server
from tests.browser.test_a_therapist_renames_archives_and_copies_a_link_again import (
    PASSWORD,
    new_client,
)

PHOTO_NAME = "journal page 12.png"
PDF_NAME = "worksheet week 3.pdf"


def drop_file(page: Page, data: bytes, name: str, media_type: str) -> None:
    """Drags a file over the conversation (the hint shows) and drops it."""
    transfer = page.evaluate_handle(
        """([bytes, name, type]) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(bytes)], name, {type}));
          return transfer;
        }""",
        [list(data), name, media_type],
    )
    page.dispatch_event(".conversation", "dragenter", {"dataTransfer": transfer})
    expect(page.locator(".drop-hint")).to_be_visible()
    expect(page.locator(".drop-hint")).to_have_text("Drop files here to attach them")
    screenshot(page, "attachments-drop-hint-desktop")
    page.dispatch_event(".conversation", "drop", {"dataTransfer": transfer})
    expect(page.locator(".drop-hint")).to_be_hidden()


def test_a_photo_and_a_worksheet_go_both_ways_previewed_and_downloaded_byte_for_byte(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
    tmp_path: Path,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Jordan {suffix}", f"jordan-{suffix}@example.invalid"
    new_client(server, demo, name, email)
    photo, worksheet = files.png(), files.pdf()
    photo_path = tmp_path / PHOTO_NAME
    photo_path.write_bytes(photo)
    words = f"Here is the page I wrote {suffix}"
    reply = f"Thank you. The worksheet for next week {suffix}"
    sent_plaintexts.extend([words, reply, PHOTO_NAME, PDF_NAME])

    client = new_page(390, 844)
    c = client.page
    sign_in(c, server.url, email, PASSWORD)
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, name)

    # The paperclip is reached by keyboard (Shift+Tab from the message box), its focus drawn.
    c.locator("#composer-text").focus()
    c.keyboard.press("Shift+Tab")
    expect(c.get_by_label("Attach files")).to_be_focused()
    ring = c.locator(".attach-button").evaluate("(label) => getComputedStyle(label).outlineStyle")
    assert ring == "solid", ring
    screenshot(c, "attachments-paperclip-focused-phone")

    # The client attaches the photo: a chip with its name and size, removable.
    c.get_by_label("Attach files").set_input_files(str(photo_path))
    chip = c.locator(".file-chip", has_text=PHOTO_NAME)
    expect(chip).to_contain_text("280 KB")
    expect(c.get_by_role("button", name=f"Remove {PHOTO_NAME}")).to_be_visible()
    c.locator("#composer-text").fill(words)
    screenshot(c, "attachments-chip-phone")
    check_accessibility(c, "a file chosen to send, phone")
    c.locator("#composer-text").press("Enter")
    expect(c.locator(".file-chip")).to_have_count(0, timeout=20_000)
    expect(c.locator("#composer-text")).to_have_value("")

    # Their own photo shows at once; the therapist's preview is downloaded and opened.
    own = c.locator(f'.message.mine img.file-preview[alt="{PHOTO_NAME}"]')
    expect(own).to_be_visible(timeout=15_000)
    expect(message_items(t, words)).to_have_count(1, timeout=15_000)
    preview = t.locator(f'.message.theirs img.file-preview[alt="{PHOTO_NAME}"]')
    expect(preview).to_be_visible(timeout=15_000)
    t.wait_for_function(
        "(alt) => [...document.querySelectorAll('img.file-preview')]"
        ".some((img) => img.alt === alt && img.complete && img.naturalWidth === 360)",
        arg=PHOTO_NAME,
    )
    assert preview.evaluate("(img) => img.src.startsWith('blob:')")
    assert download(t, PHOTO_NAME) == photo

    # The therapist drops the worksheet on the conversation and sends it with a few words.
    drop_file(t, worksheet, PDF_NAME, "application/pdf")
    expect(t.locator(".file-chip", has_text=PDF_NAME)).to_be_visible()
    t.locator("#composer-text").fill(reply)
    t.get_by_role("button", name="Send", exact=True).click()
    expect(t.locator(".file-chip")).to_have_count(0, timeout=20_000)
    expect(message_items(t, reply)).to_have_count(1)

    # The client sees the PDF as a row (no preview), downloads it, and it is the file.
    row = c.locator(".message.theirs .message-file", has_text=PDF_NAME)
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("624 bytes")
    expect(row.locator("img")).to_be_hidden()
    assert download(c, PDF_NAME) == worksheet
    # And their own photo, from the conversation, is the photo.
    assert download(c, PHOTO_NAME) == photo

    for page, width in ((c, "phone"), (t, "desktop")):
        page.locator(".messages").evaluate("(box) => { box.scrollTop = box.scrollHeight; }")
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, f"attachments-conversation-{width}")
        page.emulate_media(color_scheme="dark")
        screenshot(page, f"attachments-conversation-{width}-dark")
        page.emulate_media(color_scheme="light")
        check_accessibility(page, f"a conversation with files, {width}")
        # Nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The client's export holds each message's words and a line per file, and verifies.
    c.get_by_role("link", name="Safety number").click()
    digits = " ".join(c.locator(".safety-digits span").all_inner_texts())
    c.go_back()
    with c.expect_download() as info:
        c.get_by_role("button", name="Export").click()
    verified = verify_export(Path(info.value.path()).read_bytes(), safety_numbers=[digits])
    assert [m.text for m in verified.messages] == [
        f"{words}\nAttachment: {PHOTO_NAME} (280 KB)",
        f"{reply}\nAttachment: {PDF_NAME} (624 bytes)",
    ]

    # The therapist's search finds the words of a message with a file.
    t.get_by_role("button", name="Search", exact=True).click()
    t.get_by_label(f"Search your conversation with {name}").fill("worksheet for next week")
    expect(t.locator(".search-status")).to_have_text("1 of 1 match")

    client.assert_clean()
    therapist.assert_clean()
