"""A browser that reaches a production server over plain http, under a real name (not
127.0.0.1, where browsers make an exception), is told to use https when it signs in: the
server's cookies go over https only, so its sign-in cannot pass, and the page says why
instead of a bare refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from harness.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.server import Server, make_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

NAME = "portal.test"


@pytest.fixture
def named_browser(playwright_module: Playwright) -> Iterator[Browser]:
    """Chromium resolving portal.test to 127.0.0.1."""
    browser = playwright_module.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {NAME} 127.0.0.1"],
    )
    yield browser
    browser.close()


@pytest.fixture
def cookies_for_https(tmp_path: Path) -> Iterator[Server]:
    server = make_server(
        tmp_path / "server",
        {"CONFIDE_SECURE_COOKIES": "true", "ALLOWED_HOSTS": f"{NAME},127.0.0.1"},
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_signing_in_over_plain_http_says_to_use_https(
    named_browser: Browser, cookies_for_https: Server
) -> None:
    client = cookies_for_https.demo["client"]
    port = cookies_for_https.url.rsplit(":", 1)[1]
    page = named_browser.new_page()
    page.goto(f"http://{NAME}:{port}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(client.email)
    page.get_by_label("Password").fill(client.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This portal works only over https")).to_be_visible(timeout=15_000)
    expect(page.get_by_text(f"https://{NAME}:{port}/")).to_be_visible()
