"""Two-step sign-in with an authenticator app, in the browser: a new admin is taken to set
one up before anything else; the QR code holds the app's ``otpauth://`` URI (read by an
independent decoder) and the key is shown as text to type; a code confirms it and the
recovery codes are shown once. Signing in again then asks for a code: a wrong one and a
reused one are refused with words that say why, a fresh one signs in, and so does a
recovery code, once."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pyotp

from tests import authenticator
from tests.browser.pages import (
    Watched,
    check_accessibility,
    enter_code,
    expect,
    qr_payload,
    screenshot,
)
from tests.browser.server import Server

PASSWORD = "lanterns along the harbour wall"
LINK = re.compile(r"^  (http://\S+/setup#[A-Za-z0-9_-]+)$", re.MULTILINE)


def not_now(secret: str) -> str:
    """A code of the app that the server takes as neither current nor recently expired
    (of fifteen minutes ago): a wrong code."""
    return pyotp.TOTP(secret).at(time.time() - 900)


def sign_in_until_asked(page: Watched, server: Server, email: str) -> None:
    p = page.page
    p.goto(server.url + "/")
    p.get_by_label("Email").fill(email)
    p.get_by_label("Password").fill(PASSWORD)
    p.get_by_role("button", name="Sign in").click()
    expect(p.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)


def test_an_admin_sets_up_an_app_and_signs_in_with_its_codes(
    server: Server, new_page: Callable[..., Watched]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    email = f"ada-{suffix}@lantern.invalid"
    printed = server.stack.manage(
        "create_practice",
        "--name",
        f"Lantern {suffix}",
        "--time-zone",
        "Europe/Dublin",
        "--admin-email",
        email,
        "--url",
        server.url,
    )
    link = LINK.search(printed)
    assert link is not None, printed

    admin = new_page(1280, 900)
    a = admin.page
    a.goto(link.group(1))
    a.get_by_label("Your name").fill("Ada Lantern")
    a.get_by_label("Choose a password").fill(PASSWORD)
    a.get_by_label("Type the password again").fill(PASSWORD)
    a.get_by_role("button", name="Create my account").click()
    last = a.locator(".recovery-key span").last
    expect(last).to_be_visible(timeout=15_000)
    a.get_by_label("Type the last group of your recovery key").fill(last.inner_text())
    a.get_by_role("button", name=re.compile("I have saved it")).click()

    # Set-up first: nothing else is open.
    expect(a.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    expect(a.get_by_text("Set one up to continue")).to_be_visible()
    a.get_by_role("button", name="Set up an authenticator app").click()
    expect(a.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = a.locator("#totp-secret").inner_text().replace(" ", "")
    uri = qr_payload(a, "canvas.qr").decode()
    assert uri.startswith("otpauth://totp/Confide:")
    assert parse_qs(urlsplit(uri).query)["secret"] == [secret]
    screenshot(a, "enrol-authenticator-app")
    check_accessibility(a, "setting up an authenticator app")
    a.get_by_label("Code from your authenticator app").fill(not_now(secret))
    a.get_by_role("button", name="Confirm").click()
    expect(a.get_by_role("alert")).to_contain_text("wrong")
    a.get_by_label("Code from your authenticator app").fill(authenticator.next_code(secret))
    a.get_by_role("button", name="Confirm").click()
    expect(a.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = a.locator(".recovery-codes li").all_inner_texts()
    assert len(set(codes)) == 10
    check_accessibility(a, "recovery codes")
    a.get_by_role("button", name="Continue").click()
    expect(a.get_by_role("alert")).to_contain_text("Save the codes first")
    a.get_by_label("I have saved my recovery codes").check()
    a.get_by_role("button", name="Continue").click()
    expect(a.get_by_role("heading", name=re.compile("^People"))).to_be_visible()
    a.get_by_role("button", name="Sign out").click()

    # Signing in again: a wrong code, a reused one, then a fresh one.
    sign_in_until_asked(admin, server, email)
    screenshot(a, "second-factor")
    check_accessibility(a, "two-step sign-in")
    enter_code(a, not_now(secret))
    expect(a.locator("#second-factor-error")).to_contain_text("wrong")
    used = authenticator.next_code(secret)
    enter_code(a, used)
    expect(a.get_by_role("heading", name=re.compile("^People"))).to_be_visible(timeout=15_000)
    a.get_by_role("button", name="Sign out").click()
    sign_in_until_asked(admin, server, email)
    enter_code(a, used)
    expect(a.locator("#second-factor-error")).to_contain_text("already used")
    enter_code(a, authenticator.next_code(secret))
    expect(a.get_by_role("heading", name=re.compile("^People"))).to_be_visible(timeout=15_000)
    a.get_by_role("button", name="Sign out").click()

    # A recovery code in place of the app: once.
    sign_in_until_asked(admin, server, email)
    a.get_by_role("button", name="Use a recovery code").click()
    a.get_by_label("Recovery code").fill(codes[0])
    a.get_by_role("button", name="Continue").click()
    expect(a.get_by_role("heading", name=re.compile("^People"))).to_be_visible(timeout=15_000)
    a.get_by_role("button", name="Sign out").click()
    sign_in_until_asked(admin, server, email)
    a.get_by_role("button", name="Use a recovery code").click()
    a.get_by_label("Recovery code").fill(codes[0])
    a.get_by_role("button", name="Continue").click()
    expect(a.locator("#second-factor-error")).to_contain_text("already used")
    # The browser logs each refusal the test asked for (four codes), and nothing else.
    refused = [p for p in admin.problems if "status of 403" in p]
    assert len(refused) == 4, admin.problems
    admin.problems[:] = [p for p in admin.problems if p not in refused]
    admin.assert_clean()
