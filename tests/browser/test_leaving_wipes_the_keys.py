"""Every way out of a session leaves nothing behind in the page: signing out, the quick
exit, and the automatic sign-out after inactivity."""

from __future__ import annotations

from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import Page, Route, Watched, expect, sign_in
from tests.browser.server import Server

EXIT = "https://www.weather.gov/"


STORED = """[...Object.keys(localStorage), ...Object.keys(sessionStorage)]
  .filter((name) => name.startsWith('confide.'))"""


def session_is_over(page: Page) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("Object.keys(sessionStorage).length") == 0
    # Not even public data is left: nothing in storage says this browser used the portal.
    assert page.evaluate(STORED) == []
    # The browser's cookies, asked outside the page (so the 401 is not a console error).
    origin = page.url.split("/", 3)[:3]
    assert page.request.get("/".join(origin) + "/api/me").status == 401


def test_signing_out_wipes_keys_and_storage_and_ends_the_session(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    # The peers' keys seen are kept sealed on the server (crypto/SPEC.md, "Pins"), never
    # here; what is here is the desktop-alert switch, as a person sets it.
    assert "confide.seen-identities" not in c.evaluate(STORED)
    c.evaluate("localStorage.setItem('confide.alerts', 'on')")
    assert c.evaluate(STORED) == ["confide.alerts"], "something to wipe"
    c.get_by_role("button", name="Sign out").click()
    expect(c.get_by_text("You signed out.")).to_be_visible()
    session_is_over(c)
    client.assert_clean()


def test_the_quick_exit_leaves_at_once_and_asks_nothing_of_the_other_site_before(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    client = new_page()
    c = client.page
    requested: list[str] = []

    def neutral(route: Route) -> None:
        requested.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>")

    c.context.route("https://www.weather.gov/**", neutral)
    sign_in(c, server.url, demo.client.email, demo.client.password)
    c.context.set_offline(True)  # an unsent message leaves an outbox entry behind
    c.locator("#composer-text").fill("Never mind, talk later")
    c.locator("#composer-text").press("Enter")
    assert any(name.startswith("confide.outbox.") for name in c.evaluate(STORED))
    c.context.set_offline(False)
    assert requested == []
    c.get_by_role("button", name="Quick exit").click()
    c.wait_for_url(EXIT)
    assert requested == [EXIT]
    # Nothing to go back to: the portal page was replaced, not left in the history.
    assert c.evaluate("history.length") <= 2
    c.goto(server.url + "/")
    session_is_over(c)


def test_inactivity_signs_out_and_wipes_the_keys(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    therapist = new_page()
    t = therapist.page
    t.clock.install()
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()
    t.clock.fast_forward("14:00")
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()
    t.clock.fast_forward("01:30")
    expect(t.get_by_text("signed out after a period without activity")).to_be_visible()
    session_is_over(t)
    therapist.assert_clean()
