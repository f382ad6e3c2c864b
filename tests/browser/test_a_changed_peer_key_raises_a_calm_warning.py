"""When the identity served for a peer differs from the one this browser saw before, the
conversation shows a calm warning that blocks nothing and leads to the safety number, and
the next message begins a new epoch first (crypto/SPEC.md, "Epoch rotation")."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import Watched, expect, message_items, screenshot, send, sign_in
from tests.browser.server import Server


def test_a_changed_peer_key_raises_a_calm_warning(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    banner = c.locator(".banner")
    expect(banner).to_be_hidden()
    seen = json.loads(c.evaluate("localStorage.getItem('confide.seen-identities')"))
    assert len(seen) == 1
    [(therapist_id, identity)] = seen.items()
    # As if this browser had seen another key for the therapist before.
    other = ("B" if identity[1] != "B" else "C").join([identity[:1], identity[2:]])
    c.evaluate(
        "([id, value]) => localStorage.setItem('confide.seen-identities', "
        "JSON.stringify({[id]: value}))",
        [therapist_id, other],
    )
    c.reload()
    sign_in(c, server.url, demo.client.email, demo.client.password)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("security keys have changed")
    expect(c.locator("#composer-text")).to_be_enabled()
    screenshot(c, "key-changed-warning")

    # The next message goes under a new epoch, begun (and wrapped to the keys served now)
    # before it is sent; one change begins one epoch.
    for n in (1, 2):
        text = f"After the key change, {n} {uuid.uuid4().hex[:8]}"
        sent_plaintexts.append(text)
        send(c, text)
        expect(message_items(c, text)).to_have_count(1)
        expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
            "data-state", re.compile("^(sent|read)$")
        )
    [(rekeyed_at, rekey)] = client.frames_of("sent", "rekey")
    sends = client.frames_of("sent", "send")
    assert [f["epoch"] for _, f in sends] == [rekey["epoch"]] * 2
    assert rekeyed_at < sends[0][0]
    banner.get_by_role("link", name="Compare safety number").click()
    expect(c.get_by_role("heading", name="Safety number with Dr. Dana Demo")).to_be_visible()
    c.get_by_role("button", name="We compared the new number").click()
    expect(c.get_by_role("heading", name="Dr. Dana Demo")).to_be_visible()
    expect(banner).to_be_hidden()
    stored = json.loads(c.evaluate("localStorage.getItem('confide.seen-identities')"))
    assert stored == {therapist_id: identity}
    client.assert_clean()
