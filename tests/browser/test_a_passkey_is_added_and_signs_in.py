"""A passkey as the second factor, in Chromium with a virtual authenticator (the DevTools
protocol's WebAuthn domain, standing in for a fingerprint reader): a new admin adds one
as their first factor and gets their recovery codes; signing in again, the passkey
finishes the sign-in, its counter moving on.

WebAuthn takes a domain name, never an IP address, as the relying party: the page is
opened at ``localhost``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from tests.browser.pages import Watched, check_accessibility, expect, screenshot
from tests.browser.server import Server

PASSWORD = "a kettle singing on the stove"
LINK = re.compile(r"^  (http://\S+/setup#[A-Za-z0-9_-]+)$", re.MULTILINE)


def virtual_authenticator(page: Watched) -> tuple[Any, str]:
    """A platform authenticator with user verification, as a laptop's fingerprint reader."""
    cdp = page.page.context.new_cdp_session(page.page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def test_an_admin_adds_a_passkey_and_signs_in_with_it(
    server: Server, new_page: Callable[..., Watched]
) -> None:
    base = server.url.replace("127.0.0.1", "localhost")
    suffix = uuid.uuid4().hex[:6]
    email = f"ada-{suffix}@kettle.invalid"
    printed = server.stack.manage(
        "create_practice",
        "--name",
        f"Kettle {suffix}",
        "--time-zone",
        "Europe/Lisbon",
        "--admin-email",
        email,
        "--url",
        base,
    )
    link = LINK.search(printed)
    assert link is not None, printed

    admin = new_page(1280, 900)
    a = admin.page
    cdp, authenticator_id = virtual_authenticator(admin)
    a.goto(link.group(1))
    a.get_by_label("Your name").fill("Ada Kettle")
    a.get_by_label("Choose a password").fill(PASSWORD)
    a.get_by_label("Type the password again").fill(PASSWORD)
    a.get_by_role("button", name="Create my account").click()
    last = a.locator(".recovery-key span").last
    expect(last).to_be_visible(timeout=15_000)
    a.get_by_label("Type the last group of your recovery key").fill(last.inner_text())
    a.get_by_role("button", name=re.compile("I have saved it")).click()

    # The first factor is a passkey.
    expect(a.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    a.get_by_role("button", name="Add a passkey").click()
    a.get_by_label("Name of the passkey").fill("Work laptop")
    check_accessibility(a, "adding a passkey")
    a.get_by_role("button", name="Create the passkey").click()
    expect(a.get_by_role("heading", name="Your recovery codes")).to_be_visible(timeout=15_000)
    expect(a.get_by_role("status").first).to_contain_text("Work laptop")
    assert len(a.locator(".recovery-codes li").all_inner_texts()) == 10
    a.get_by_label("I have saved my recovery codes").check()
    a.get_by_role("button", name="Continue").click()
    expect(a.get_by_role("heading", name=re.compile("^People"))).to_be_visible()
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    count_after_registration = credential["signCount"]
    a.get_by_role("button", name="Sign out").click()

    # Signing in: the password, then the passkey.
    expect(a.get_by_role("heading", name="Sign in")).to_be_visible()
    a.get_by_label("Email").fill(email)
    a.get_by_label("Password").fill(PASSWORD)
    a.get_by_role("button", name="Sign in").click()
    expect(a.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    screenshot(a, "second-factor-passkey")
    check_accessibility(a, "two-step sign-in with a passkey")
    a.get_by_role("button", name="Use a passkey").click()
    expect(a.get_by_role("heading", name=re.compile("^People"))).to_be_visible(timeout=15_000)
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})[
        "credentials"
    ]
    assert credential["signCount"] > count_after_registration

    # The passkey is listed where the account's factors are managed.
    a.get_by_role("link", name="Settings", exact=True).click()
    expect(a.get_by_text(re.compile("Passkey “Work laptop”, last used"))).to_be_visible()
    screenshot(a, "two-step-sign-in-settings")
    check_accessibility(a, "two-step sign-in settings")
    admin.assert_clean()
