"""Email notifications are on by default and each person turns them off (and on) in
Settings; the choice is kept on the server, so it holds after a reload."""

from __future__ import annotations

from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import Watched, check_accessibility, expect, screenshot, sign_in
from tests.browser.server import Server


def test_a_client_turns_email_notifications_off_and_on(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    c.get_by_role("link", name="Settings", exact=True).click()
    expect(c.get_by_role("heading", name="Settings")).to_be_visible()
    box = c.get_by_label("Email me when a message waits and I am not signed in")
    expect(box).to_be_enabled()
    expect(box).to_be_checked()
    screenshot(c, "settings-phone")
    check_accessibility(c, "settings")

    box.uncheck()
    expect(c.get_by_role("status").filter(has_text="Emails are off.")).to_be_visible()
    c.goto(server.url + "/")  # a new page load: signed out, keys gone
    sign_in(c, server.url, demo.client.email, demo.client.password)
    c.get_by_role("link", name="Settings", exact=True).click()
    box = c.get_by_label("Email me when a message waits and I am not signed in")
    expect(box).to_be_enabled()
    expect(box).not_to_be_checked()
    box.check()
    expect(c.get_by_role("status").filter(has_text="Emails are on.")).to_be_visible()
    c.set_viewport_size({"width": 1280, "height": 800})
    screenshot(c, "settings-desktop")
    client.assert_clean()
