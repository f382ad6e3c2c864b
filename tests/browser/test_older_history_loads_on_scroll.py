"""A conversation opens on its newest page; scrolling to the top loads the older ones
(``history`` frames), each message once and in order."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import Watched, expect, open_conversation, send, sign_in
from tests.browser.server import Server

COUNT = 60  # more than one history page (50)


def test_older_history_loads_on_scroll(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    marker = uuid.uuid4().hex[:8]
    texts = [f"Numbered {n:02d} {marker}" for n in range(COUNT)]
    for text in texts:
        send(c, text)
    mine = c.locator(".message.mine", has_text=marker)
    expect(mine).to_have_count(COUNT)
    for state in ("queued", "sending", "failed"):
        expect(c.locator(f".message.mine[data-state={state}]")).to_have_count(0, timeout=20_000)

    therapist = new_page()
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, "Casey Client")
    shown = t.locator(".message-text", has_text=marker)
    expect(shown.last).to_have_text(texts[-1])
    expect(t.get_by_role("button", name="Load earlier messages")).to_be_visible()
    assert shown.count() < COUNT

    t.locator(".messages").evaluate("(element) => { element.scrollTop = 0; }")
    expect(shown).to_have_count(COUNT)
    assert shown.all_text_contents() == texts
    seqs = [
        int(key[1:])
        for key in t.locator(".message-list > li.message").evaluate_all(
            "(items) => items.map((item) => item.dataset.key)"
        )
    ]
    assert seqs == sorted(set(seqs)), "each sequence number once, in order"
    assert all(re.fullmatch(r"\d+", str(seq)) for seq in seqs)

    client.assert_clean()
    therapist.assert_clean()
