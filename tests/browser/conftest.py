"""Fixtures of the browser tests: one real server and one headless Chromium per session.

Playwright drives Debian's Chromium (/usr/bin/chromium); the test extra installs the
Python package only, never a browser of its own. Outside CI the tests skip when Chromium
or Playwright is missing; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from harness.browser import CHROMIUM, CHROMIUM_ARGS
from tests.browser.server import Server, make_server
from tests.conftest import running_in_ci
from tests.personas import LivePersona

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

    from tests.browser.pages import Watched

# The demo client's name, as the therapist's inbox shows it (messaging's seed_demo).
CLIENT_NAME = "Casey Client"


def _unavailable(reason: str) -> None:
    if running_in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_module() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_module: Playwright) -> Iterator[Browser]:
    browser = playwright_module.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Server]:
    server = make_server(tmp_path_factory.mktemp("browser-server"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Demo:
    """The therapist and the client of the demo practice (``confide seed_demo``), who
    share a conversation: the browser tests' personas."""

    therapist: LivePersona
    client: LivePersona


@pytest.fixture(scope="session")
def demo(server: Server) -> Demo:
    return demo_accounts(server)


def demo_accounts(server: Server) -> Demo:
    return Demo(therapist=server.demo["therapist"], client=server.demo["client"])


@dataclass(frozen=True)
class Conversing:
    """The demo therapist with the client's conversation open, and the client, each
    signed in in a browser of their own."""

    therapist: Watched
    client: Watched


@pytest.fixture
def conversing(server: Server, demo: Demo, new_page: Callable[..., Watched]) -> Conversing:
    from tests.browser.pages import open_conversation, sign_in

    therapist = new_page()
    sign_in(therapist.page, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(therapist.page, CLIENT_NAME)
    client = new_page()
    sign_in(client.page, server.url, demo.client.email, demo.client.password)
    return Conversing(therapist, client)


@pytest.fixture(scope="session")
def sent_plaintexts() -> list[str]:
    """Every message text the tests typed, for the database canary."""
    return []


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Watched]]:
    """Opens a page in a fresh browser context (its own cookies and storage)."""
    contexts = []

    from tests.browser.pages import watch

    def make(width: int = 420, height: int = 860, time_zone: str | None = None) -> Watched:
        context = browser.new_context(
            viewport={"width": width, "height": height}, timezone_id=time_zone
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return watch(context)

    yield make
    for context in contexts:
        context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last, together, with the database canary after all of them.

    Playwright's synchronous API keeps its own event loop running in the main thread while
    its session fixtures live; no asyncio test may run in between.
    """
    browser = [item for item in items if item.nodeid.startswith("tests/browser/")]
    canary = [item for item in browser if "no_plaintext" in item.nodeid]
    for item in browser:
        items.remove(item)
    items.extend(item for item in browser if item not in canary)
    items.extend(canary)
