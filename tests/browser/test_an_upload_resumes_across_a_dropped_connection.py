"""A client sends a scanned form of about 2.5 MiB (three parts of the stream) while the
connection drops under the second part: the browser shows it is trying again, asks the
server which parts it holds, sends the missing one, and completes the upload; the message
arrives once, the server holds the attachment complete with exactly three parts, each
sent once but the one that dropped, and the therapist's download is the file."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Request, Route

from tests.browser import files
from tests.browser.conftest import Demo
from tests.browser.files import download
from tests.browser.pages import (
    Watched,
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

FORM_NAME = "intake form (scanned).pdf"
PART = re.compile(r"/api/attachments/([0-9a-f-]{36})/parts/(\d+)$")


def test_an_upload_resumes_across_a_dropped_connection(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
    tmp_path: Path,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Sam {suffix}", f"sam-{suffix}@example.invalid"
    new_client(server, demo, name, email)
    form = files.noise(5 * 1024 * 1024 // 2, seed=11)
    path = tmp_path / FORM_NAME
    path.write_bytes(form)
    words = f"The form, filled in {suffix}"
    sent_plaintexts.extend([words, FORM_NAME])

    client = new_page(390, 844)
    c = client.page
    sign_in(c, server.url, email, PASSWORD)

    # The first PUT of part 1 never reaches the server: the connection drops under it.
    puts: list[int] = []
    uploads: set[str] = set()
    dropped: list[int] = []

    def on_request(request: Request) -> None:
        match = PART.search(request.url)
        if match and request.method == "PUT":
            uploads.add(match.group(1))
            puts.append(int(match.group(2)))

    def drop_once(route: Route) -> None:
        if not dropped:
            dropped.append(1)
            route.abort("connectionreset")
        else:
            route.continue_()

    c.on("request", on_request)
    c.route(re.compile(r".*/api/attachments/[0-9a-f-]+/parts/1$"), drop_once)

    c.get_by_label("Attach files").set_input_files(str(path))
    expect(c.locator(".file-chip", has_text=FORM_NAME)).to_contain_text("2.5 MB")
    c.locator("#composer-text").fill(words)
    c.get_by_role("button", name="Send", exact=True).click()
    progress = c.get_by_role("progressbar", name=f"Uploading {FORM_NAME}")
    expect(progress).to_be_visible()
    expect(c.get_by_role("button", name=f"Cancel the upload of {FORM_NAME}")).to_be_visible()
    screenshot(c, "attachments-uploading-phone")
    expect(c.locator(".file-chip")).to_have_count(0, timeout=30_000)
    expect(message_items(c, words)).to_have_count(1)
    expect(c.locator(".message.mine").filter(has_text=words)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$"), timeout=15_000
    )

    assert dropped == [1]
    assert len(uploads) == 1, uploads
    assert sorted(puts) == [0, 1, 1, 2], puts
    (upload,) = uploads
    state = c.evaluate("async (id) => (await fetch(`/api/attachments/${id}`)).json()", upload)[
        "attachment"
    ]
    assert state["complete"] is True
    assert (state["parts"], state["stored"]) == (3, [0, 1, 2])
    assert state["size"] == 554 + len(form) + 17 * -(-len(form) // 65536)

    # The therapist gets one message, with the form, and downloads it whole.
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, name)
    expect(message_items(t, words)).to_have_count(1)
    row = t.locator(".message.theirs .message-file", has_text=FORM_NAME)
    expect(row).to_contain_text("2.5 MB")
    assert download(t, FORM_NAME) == form

    # The one request the test dropped is the browser's one complaint.
    reset = [p for p in client.problems if "ERR_CONNECTION_RESET" in p and "/parts/1" in p]
    assert len(reset) == 1, client.problems
    client.problems.remove(reset[0])
    client.assert_clean()
    therapist.assert_clean()
