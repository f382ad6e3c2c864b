"""What a person does in the web client, as Playwright steps, and the checks every test
makes on a page (no console errors, no CSP violations, nothing injected ran)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import running_in_ci

try:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Route, expect
except ImportError:
    if running_in_ci():
        raise
    pytest.skip("playwright is not installed: pip install -e '.[test]'", allow_module_level=True)

__all__ = ["Route", "Watched", "expect", "watch"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

# Runs before the page's own scripts (through the DevTools protocol, not subject to CSP):
# records every CSP violation the page reports.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


@dataclass
class Watched:
    """A page and the problems it reported."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        violations = self.page.evaluate("window.__cspViolations || []")
        assert not violations, f"CSP violations: {violations}"
        assert not self.problems, f"console errors: {self.problems}"
        assert self.page.evaluate("typeof window.__pwned") == "undefined"


def watch(context: BrowserContext) -> Watched:
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            watched.problems.append(f"{message.text} ({where})" if where else message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    return watched


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """From any page of the app to signed in (accepting the agreement if it is shown)."""
    if not page.url.startswith(base_url):
        page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    signed_in = page.locator(".conversation, .inbox, #agreement-title")
    expect(signed_in.first).to_be_visible(timeout=15_000)
    if page.locator("#agreement-title").is_visible():
        accept_agreement(page)


def accept_agreement(page: Page) -> None:
    page.get_by_label("I have read the messaging agreement").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".conversation")).to_be_visible()


def open_conversation(page: Page, name: str) -> None:
    """A therapist opens a client's conversation from the inbox (unless a deep link after
    signing in already shows it)."""
    if not page.get_by_role("heading", name=name).is_visible():
        page.locator(".inbox-item", has_text=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def send(page: Page, text: str) -> None:
    page.locator("#composer-text").fill(text)
    page.locator("#composer-text").press("Enter")


def message_items(page: Page, text: str):  # type: ignore[no-untyped-def]
    """The list items whose text is exactly `text` (as a person would see it)."""
    return page.locator(".message .message-text").filter(has_text=text)
