"""A therapist sees the invitations still pending under "Invite a client" and revokes one:
it leaves the list, and its link then opens nothing, as a used one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import Watched, check_accessibility, expect, screenshot, sign_in
from tests.browser.server import Server


def test_a_therapist_revokes_a_pending_invitation(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    therapist = new_page()
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    suffix = uuid.uuid4().hex[:6]
    links = {}
    for name in (f"Kept {suffix}", f"Withdrawn {suffix}"):
        t.get_by_label("Client's name").fill(name)
        t.get_by_role("button", name="Create invitation link").click()
        field = t.get_by_label(f"Invitation link for {name}")
        expect(field).to_have_value(re.compile(r"/invite#[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{43}$"))
        links[name] = field.input_value()
    pending = t.locator(".invitation-item")
    expect(pending.filter(has_text=f"Withdrawn {suffix}")).to_have_count(1)
    expect(pending.filter(has_text=f"Kept {suffix}")).to_have_count(1)
    screenshot(t, "inbox-pending-invitations")
    check_accessibility(t, "inbox with pending invitations")

    t.get_by_role("button", name=f"Revoke the invitation for Withdrawn {suffix}").click()

    expect(pending.filter(has_text=f"Withdrawn {suffix}")).to_have_count(0)
    expect(pending.filter(has_text=f"Kept {suffix}")).to_have_count(1)
    listed = t.request.get(server.url + "/api/invitations").json()["invitations"]
    states = {item["client_name"]: item["state"] for item in listed}
    assert states[f"Withdrawn {suffix}"] == "revoked"
    assert states[f"Kept {suffix}"] == "pending"

    # (The withdrawn link's page is not checked for console errors: Chromium notes the
    # lookup's 410 there, as for any refused request.)
    withdrawn, kept = new_page(), new_page()
    withdrawn.page.goto(links[f"Withdrawn {suffix}"])
    expect(
        withdrawn.page.get_by_role("heading", name="This invitation cannot be used")
    ).to_be_visible()
    kept.page.goto(links[f"Kept {suffix}"])
    expect(kept.page.get_by_role("heading", name="Dr. Dana Demo invited you")).to_be_visible()
    therapist.assert_clean()
    kept.assert_clean()
