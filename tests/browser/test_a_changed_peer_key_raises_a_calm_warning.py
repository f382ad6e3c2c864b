"""When the identity served for a peer differs from the one this browser saw before, the
conversation shows a calm warning that blocks nothing and leads to the safety number."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.browser.pages import Watched, expect, screenshot, sign_in
from tests.browser.server import Server


def test_a_changed_peer_key_raises_a_calm_warning(
    server: Server, demo: dict[str, str], new_page: Callable[..., Watched]
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo["client_email"], demo["client_password"])
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
    sign_in(c, server.url, demo["client_email"], demo["client_password"])
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("security keys have changed")
    expect(c.locator("#composer-text")).to_be_enabled()
    screenshot(c, "key-changed-warning")
    banner.get_by_role("link", name="Compare safety number").click()
    expect(c.get_by_role("heading", name="Safety number with Dr. Dana Demo")).to_be_visible()
    c.get_by_role("button", name="We compared the new number").click()
    expect(c.get_by_role("heading", name="Dr. Dana Demo")).to_be_visible()
    expect(banner).to_be_hidden()
    stored = json.loads(c.evaluate("localStorage.getItem('confide.seen-identities')"))
    assert stored == {therapist_id: identity}
    client.assert_clean()
