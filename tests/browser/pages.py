"""What a person does in the web client, as Playwright steps, and the checks every test
makes on a page (no console errors, no CSP violations, nothing injected ran)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests import authenticator
from tests.conftest import running_in_ci

try:
    from playwright.sync_api import (
        BrowserContext,
        ConsoleMessage,
        Locator,
        Page,
        Route,
        WebSocket,
        expect,
    )
except ImportError:
    if running_in_ci():
        raise
    pytest.skip("playwright is not installed: pip install -e '.[test]'", allow_module_level=True)

__all__ = ["Page", "Route", "Watched", "expect", "watch"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
# What fails a screen: axe-core's two highest impacts (tests/browser/vendor/README.md).
BLOCKING_IMPACTS = {"serious", "critical"}

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
    """A page, the problems it reported and the websocket frames it sent and received."""

    page: Page
    problems: list[str] = field(default_factory=list)
    frames: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)

    def frames_of(self, direction: str, type_: str) -> list[tuple[float, dict[str, Any]]]:
        """(time, frame) of each ``sent`` or ``received`` frame of a type, in order."""
        return [(at, f) for d, at, f in self.frames if d == direction and f.get("type") == type_]

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

    def on_websocket(ws: WebSocket) -> None:
        def record(direction: str, payload: str | bytes) -> None:
            if isinstance(payload, str):
                at = time.monotonic()
                watched.frames.append((direction, at, json.loads(payload)))

        ws.on("framesent", lambda payload: record("sent", payload))
        ws.on("framereceived", lambda payload: record("received", payload))

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    page.on("websocket", on_websocket)
    return watched


@cache
def _axe_source() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "axe.min.js is not the vendored file"
    return data.decode("utf-8")


def check_accessibility(page: Page, screen: str) -> None:
    """Runs axe-core on the page as it is, in the light and the dark colour scheme, and
    fails on any serious or critical violation.

    axe is injected with ``page.evaluate`` (the DevTools protocol, which the page's policy
    does not govern), never with a ``<script>`` tag, and only in tests.
    """
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(_axe_source())
    blocking = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        result = page.evaluate(
            """async () => {
              const r = await axe.run(document, {resultTypes: ['violations']});
              return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary)}));
            }"""
        )
        blocking += [{**v, "scheme": scheme} for v in result if v["impact"] in BLOCKING_IMPACTS]
    page.emulate_media(color_scheme="light")
    assert not blocking, f"{screen}: accessibility violations:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}, {v['scheme']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in blocking
    )


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """From any page of the app to signed in: the code of the account's authenticator app
    when it asks for one (``tests.authenticator``), the agreement accepted if it is shown."""
    if not page.url.startswith(base_url):
        page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # A therapist's inbox is beside the conversation, and hidden by it on a phone.
    signed_in = page.locator(":is(.conversation, .inbox, .console-nav, #agreement-title):visible")
    expect(signed_in.or_(page.locator("#second-factor-title")).first).to_be_visible(timeout=15_000)
    if page.locator("#second-factor-title").is_visible():
        enter_code(page, authenticator.code_for(base_url, email))
        expect(signed_in.first).to_be_visible(timeout=15_000)
    if page.locator("#agreement-title").is_visible():
        accept_agreement(page)


def enter_code(page: Page, code: str) -> None:
    """Types a code on the second-factor screen and sends it."""
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Continue").click()


def enrol_authenticator_app(page: Page) -> tuple[str, list[str]]:
    """On the two-step sign-in screen: sets up an authenticator app from its key shown as
    text, confirms it with the app's code, and saves the recovery codes; returns the
    secret and the codes."""
    page.get_by_role("button", name=re.compile("authenticator app")).click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill(authenticator.next_code(secret))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    page.get_by_label("I have saved my recovery codes").check()
    page.get_by_role("button", name="Continue").click()
    return secret, codes


def qr_payload(page: Page, canvas: str) -> bytes:
    """What an independent decoder (zxing-cpp) reads from the QR code a canvas shows."""
    import zxingcpp

    size, gray = page.evaluate(
        """(selector) => {
          const canvas = document.querySelector(selector);
          const rgba = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const gray = [];
          for (let i = 0; i < rgba.length; i += 4) gray.push(rgba[i]);
          return [[canvas.width, canvas.height], gray];
        }""",
        canvas,
    )
    image = memoryview(bytes(gray)).cast("B", (size[1], size[0]))
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(found) == 1, f"one QR code in {canvas}"
    data: bytes = found[0].bytes
    return data


def accept_agreement(page: Page) -> None:
    page.get_by_label("I have read the messaging agreement").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".conversation")).to_be_visible()


def open_conversation(page: Page, name: str) -> None:
    """A therapist opens a client's conversation from the inbox (unless a deep link after
    signing in already shows it)."""
    if not page.get_by_role("heading", name=name).is_visible():
        # The list shows once the pending invitations above it have loaded (or after two
        # seconds): the click waits for them too, so that it never lands on a list that
        # they are about to move
        # (tests/browser/test_the_therapists_list_stays_still_while_invitations_load.py).
        expect(page.locator("[aria-busy=true]")).to_have_count(0)
        page.locator(".inbox-item", has_text=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def to_inbox(page: Page) -> None:
    """Back to a therapist's list of clients: the link above a conversation on a phone;
    on a wide screen the list is beside it already, and the conversation pane is left."""
    back = page.get_by_role("link", name="← All conversations")
    if back.is_visible():
        back.click()
    else:
        page.evaluate("location.hash = '#/'")
    expect(page.get_by_role("heading", name="Your clients")).to_be_visible()


def send(page: Page, text: str) -> None:
    page.locator("#composer-text").fill(text)
    page.locator("#composer-text").press("Enter")


def message_items(page: Page, text: str) -> Locator:
    """The list items whose text is exactly `text` (as a person would see it)."""
    return page.locator(".message .message-text").filter(has_text=text)


def conversation_id(page: Page) -> str:
    """The id of the conversation the page shows (from its address)."""
    fragment = page.url.split("#", 1)[1]
    assert fragment.startswith("/c/"), page.url
    return fragment.removeprefix("/c/")


def invite(page: Page, name: str) -> str:
    """A therapist makes an invitation link for a client called ``name``; returns it."""
    page.get_by_label("Client's name").fill(name)
    page.get_by_role("button", name="Create invitation link").click()
    link_field = page.get_by_label(f"Invitation link for {name}")
    expect(link_field).to_have_value(re.compile(r"/invite#"))
    return link_field.input_value()


def new_client(
    therapist: Page, new_page: Callable[..., Watched], name: str, password: str, email: str
) -> Watched:
    """A client called ``name`` whom the therapist signed in on ``therapist`` invites: their
    account made through the link in a browser of their own, and the messaging agreement
    accepted there; returns that browser, on their conversation."""
    link = invite(therapist, name)
    client = new_page()
    join_through_link(client.page, link, password, email=email)
    accept_agreement(client.page)
    return client


def join_through_link(
    page: Page, link: str, password: str, *, email: str | None = None, name: str | None = None
) -> str:
    """Opens a setup or invitation link, chooses the password, and saves the recovery key
    (typing its last group back); returns the key as shown."""
    page.goto(link)
    if name is not None:
        page.get_by_label("Your name").fill(name)
    if email is not None:
        page.get_by_label("Email").fill(email)
    page.get_by_label("Choose a password").fill(password)
    page.get_by_label("Type the password again").fill(password)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Your recovery key")).to_be_visible(timeout=15_000)
    groups = page.locator(".recovery-key span").all_inner_texts()
    page.get_by_label("Type the last group of your recovery key").fill(groups[-1])
    page.get_by_role("button", name=re.compile("I have saved it")).click()
    return "-".join(groups)


def ask_for_assisted_recovery(page: Page, email: str, password: str) -> list[str]:
    """On the assisted recovery form (``/recover#assisted``): new keys for ``email`` under
    ``password``, their recovery key saved; returns the number's six groups, as shown for
    the therapist to compare."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Type the new password again").fill(password)
    page.get_by_role("button", name="Make my new keys").click()
    expect(page.get_by_role("heading", name="Your recovery key", exact=True)).to_be_visible(
        timeout=15_000
    )
    last = page.locator(".recovery-key span").all_inner_texts()[-1]
    page.get_by_label("Type the last group of your recovery key").fill(last)
    page.get_by_role("button", name=re.compile("I have saved it")).click()
    expect(page.get_by_role("heading", name="Show this number to your therapist")).to_be_visible()
    groups = page.locator(".identity-digits span").all_inner_texts()
    assert len(groups) == 6 and all(re.fullmatch(r"\d{5}", g) for g in groups)
    return groups
