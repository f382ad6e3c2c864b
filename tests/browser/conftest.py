"""Fixtures of the browser tests: one real server and one headless Chromium per session.

Playwright drives Debian's Chromium (/usr/bin/chromium); the test extra installs the
Python package only, never a browser of its own. Outside CI the tests skip when Chromium
or Playwright is missing; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.server import Server, make_server
from tests.conftest import running_in_ci

if TYPE_CHECKING:
    from tests.browser.pages import Watched

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if running_in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_module():  # type: ignore[no-untyped-def]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_module):  # type: ignore[no-untyped-def]
    browser = playwright_module.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    server = make_server(tmp_path_factory.mktemp("browser-server"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo(server: Server) -> dict[str, str]:
    """The seeded accounts: ``therapist_email``, ``therapist_password``, ``client_...``."""
    return demo_accounts(server)


def demo_accounts(server: Server) -> dict[str, str]:
    creds = server.credentials
    therapist = next(email for email in creds if email.startswith("therapist@"))
    client = next(email for email in creds if email.startswith("client@"))
    return {
        "therapist_email": therapist,
        "therapist_password": creds[therapist],
        "client_email": client,
        "client_password": creds[client],
    }


@pytest.fixture(scope="session")
def sent_plaintexts() -> list[str]:
    """Every message text the tests typed, for the database canary."""
    return []


@pytest.fixture
def new_page(browser) -> Iterator[Callable[..., Watched]]:  # type: ignore[no-untyped-def]
    """Opens a page in a fresh browser context (its own cookies and storage)."""
    contexts = []

    from tests.browser.pages import watch

    def make(width: int = 420, height: int = 860) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height})
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
