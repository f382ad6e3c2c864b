"""A client exports their conversation from the browser: the downloaded file is a readable,
printable document (no script, nothing from elsewhere), the Python verifier accepts it
with the safety number the therapist's screen shows, and refuses it with one byte changed,
naming the message; the therapist exports the same messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page

from crypto import BindingError, verify_export
from tests.browser.conftest import CLIENT_NAME, Conversing
from tests.browser.pages import (
    ARTIFACTS,
    check_accessibility,
    expect,
    message_items,
    screenshot,
    send,
)

ROOT = Path(__file__).resolve().parents[2]
THERAPIST_NAME = "Dr. Dana Demo"
TEXTS = [
    "Before Thursday: I wrote down <three things> & I'd like to go through them.",
    "Good idea. Bring them and we'll start there.",
]


def _download(page: Page, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name="Export").click()
    download = info.value
    assert download.suggested_filename.startswith(f"messages-with-{name}-")
    assert download.suggested_filename.endswith(".html")
    return Path(download.path()).read_bytes()


def test_a_conversation_is_exported_and_verified(
    conversing: Conversing, sent_plaintexts: list[str], tmp_path: Path
) -> None:
    therapist, client = conversing.therapist, conversing.client
    t, c = therapist.page, client.page
    sent_plaintexts.extend(TEXTS)
    send(c, TEXTS[0])
    expect(message_items(t, "I wrote down <three things>")).to_have_count(1)
    send(t, TEXTS[1])
    expect(message_items(c, "Bring them")).to_have_count(1)

    # The safety number the two compared in a session, as the therapist's screen shows it.
    t.get_by_role("link", name="Safety number").click()
    digits = " ".join(t.locator(".safety-digits span").all_inner_texts())
    t.go_back()

    data = _download(c, "Dr-Dana-Demo")
    status = c.locator(".export-status")
    expect(status).to_contain_text("Exported")
    expect(status).to_contain_text("keep it where only you can read it")
    screenshot(c, "export-done")
    check_accessibility(c, "conversation after an export")

    verified = verify_export(data, safety_numbers=[digits])
    assert verified.exporter == "client"
    texts = [message.text for message in verified.messages]
    assert TEXTS[0] in texts and TEXTS[1] in texts
    assert f"Exported {len(verified.messages)} messages" in status.inner_text()
    document = data.decode()
    assert "&lt;three things&gt;" in document and "<three things>" not in document
    assert "<script" not in document and "src=" not in document

    # Look at it as a reader would, on screen and printed.
    ARTIFACTS.mkdir(exist_ok=True)
    shown = ARTIFACTS / "export-document.html"
    shown.write_bytes(data)
    reader = conversing.client.page.context.new_page()
    reader.goto(shown.as_uri())
    expect(
        reader.get_by_role("heading", name=f"Messages between {CLIENT_NAME} and {THERAPIST_NAME}")
    ).to_be_visible()
    expect(reader.locator(".message .text", has_text="I wrote down <three things>")).to_have_count(
        1
    )
    screenshot(reader, "export-document")
    reader.emulate_media(media="print")
    screenshot(reader, "export-document-print")
    reader.close()

    changed = data.replace(b"Bring them", b"Bring then")
    try:
        verify_export(changed, safety_numbers=[digits])
    except BindingError as refused:
        assert "was changed" in str(refused)
    else:
        raise AssertionError("a changed byte was accepted")
    path = tmp_path / "changed.html"
    path.write_bytes(changed)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "confide_client.cli",
            "verify-export",
            str(path),
            "--safety-number",
            digits,
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert done.returncode == 6 and "was changed" in done.stderr, done.stderr

    # The therapist's export holds the same messages, signed by the therapist.
    theirs = verify_export(_download(t, "Casey-Client"), safety_numbers=[digits])
    assert theirs.exporter == "therapist"
    assert [m.text for m in theirs.messages] == texts

    therapist.assert_clean()
    client.assert_clean()
