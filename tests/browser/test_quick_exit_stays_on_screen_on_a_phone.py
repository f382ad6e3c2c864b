"""On a phone, Quick exit stays on screen wherever the client is on the page, also with
the on-screen keyboard open: the page asks the browser to shrink it for the keyboard
(``interactive-widget=resizes-content``), and the top bar that holds the button stays
at the top of what is visible. Here the keyboard is a viewport half as tall, the composer
has the focus, and the page is scrolled to its end."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.browser.conftest import Demo
from tests.browser.pages import Route, Watched, expect, sign_in
from tests.browser.server import Server

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect


def in_view(page_height: int, box: FloatRect | None) -> bool:
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page_height


def test_quick_exit_stays_on_screen_with_the_keyboard_open(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    client = new_page(390, 844)
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    viewport = c.evaluate("document.querySelector('meta[name=viewport]').content")
    assert "interactive-widget=resizes-content" in viewport
    quick_exit = c.get_by_role("button", name="Quick exit")
    expect(quick_exit).to_be_visible()

    # The keyboard takes the lower half of the screen.
    c.set_viewport_size({"width": 390, "height": 380})
    c.locator("#composer-text").focus()
    c.locator("#composer-text").fill("Typing with the keyboard open")
    c.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert c.evaluate("window.scrollY") > 0, "the page is taller than what is visible"
    assert in_view(380, quick_exit.bounding_box())
    expect(quick_exit).to_be_in_viewport()
    client.assert_clean()

    # And it still works from there.
    def neutral(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<title>Weather</title>")

    c.context.route("https://www.weather.gov/**", neutral)
    quick_exit.click()
    expect(c).to_have_title("Weather")
