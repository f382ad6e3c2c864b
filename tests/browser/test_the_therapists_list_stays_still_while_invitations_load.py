"""A therapist's pending invitations sit above their list of clients and load after it.
The list must not move under a click when they appear: it shows once they have loaded.
Here the invitations' answer is held back for 1.5 s; a client's row, once visible, stays
where it was when the invitations appear above it."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.browser.conftest import CLIENT_NAME, Demo
from tests.browser.pages import Watched, expect, invite, screenshot, sign_in
from tests.browser.server import Server

# Every GET of /api/invitations answers 1.5 s late; each one held back is counted.
SLOW_INVITATIONS = """
(() => {
  const fetchNow = window.fetch.bind(window);
  window.heldInvitations = 0;
  window.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    const method = (init && init.method) || (input instanceof Request ? input.method : 'GET');
    const answer = fetchNow(input, init);
    if (url.pathname !== '/api/invitations' || method.toUpperCase() !== 'GET') return answer;
    window.heldInvitations += 1;
    return answer.then((response) => new Promise((done) => setTimeout(() => done(response), 1500)));
  };
})();
"""


def test_a_clients_row_does_not_move_when_the_invitations_appear(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    watched = new_page(width=1280, height=900)
    t = watched.page
    t.context.add_init_script(SLOW_INVITATIONS)
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    pending_name = f"Pending {uuid.uuid4().hex[:6]}"
    invite(t, pending_name)
    pending = t.locator(".invitation-item", has_text=pending_name)
    expect(pending).to_be_visible()

    # The inbox drawn again, from another screen: its invitations load (held back) anew.
    t.evaluate("location.hash = '#/availability'")
    expect(t.locator(".inbox-item")).to_have_count(0)
    held_before = t.evaluate("window.heldInvitations")
    t.evaluate("location.hash = '#/'")
    row = t.locator(".inbox-item", has_text=CLIENT_NAME)
    expect(row).to_be_visible()
    first = row.bounding_box()
    expect(pending).to_be_visible()
    t.wait_for_timeout(300)
    after = row.bounding_box()

    assert t.evaluate("window.heldInvitations") == held_before + 1
    assert first is not None and after is not None
    assert after["y"] == first["y"], f"the row moved from y={first['y']} to y={after['y']}"
    screenshot(t, "inbox-after-pending-invitations-loaded")
