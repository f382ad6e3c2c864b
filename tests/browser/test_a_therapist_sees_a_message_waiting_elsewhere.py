"""While a therapist reads one client's conversation, another client writes: the tab's title
counts it ("(1) Confide", no name), and a mark under the header says a new message waits in
another conversation, without saying whose; it leads to the inbox, and reading the message
clears both."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from tests.browser.conftest import CLIENT_NAME, Demo
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


def unread_in_title(title: str) -> int:
    counted = re.fullmatch(r"\((\d+)\) Confide", title)
    assert counted is not None or title == "Confide", title
    return int(counted.group(1)) if counted else 0


def test_a_message_in_another_conversation_is_marked_without_a_name(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    suffix = uuid.uuid4().hex[:6]
    name = f"Nico {suffix}"
    nico = new_client(
        t, new_page, name, "a quiet harbour at dusk", f"nico-{suffix}@example.invalid"
    )
    n = nico.page
    open_conversation(t, CLIENT_NAME)
    # Other tests may have left the demo therapist unread messages: count from here.
    before = unread_in_title(t.title())
    mark = t.locator(".elsewhere")

    text = f"I'm feeling really anxious tonight {suffix}"
    sent_plaintexts.append(text)
    send(n, text)

    expect(t).to_have_title(f"({before + 1}) Confide", timeout=15_000)
    expect(mark).to_be_visible()
    expect(mark).to_have_text(
        re.compile(
            r"^(A new message in another conversation|New messages in \d+ other conversations)$"
        )
    )
    assert name not in t.title() and "anxious" not in t.title()
    assert name not in mark.inner_text() and "Nico" not in mark.inner_text()
    screenshot(t, "message-waiting-elsewhere")
    check_accessibility(t, "a conversation with a message waiting elsewhere")
    mark.get_by_role("link").click()
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()
    expect(mark).to_be_hidden()
    open_conversation(t, name)
    expect(message_items(t, text)).to_have_count(1)
    expect(t).to_have_title("Confide" if before == 0 else f"({before}) Confide")
    for page in (therapist, nico):
        page.assert_clean()
