"""Forgot password: a client who forgot it opens the portal in a new browser, follows
"Forgot your password?", and gets everything back with the recovery key shown at sign-up.
A mistyped key is refused at once, before anything is sent; the right one sets a new
password, the history is readable and they can write, the session in their old browser
ends, and their therapist sees no key-change warning (the identity did not change)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Request

from tests.browser.conftest import Demo
from tests.browser.pages import (
    Page,
    Watched,
    accept_agreement,
    check_accessibility,
    expect,
    message_items,
    open_conversation,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server

OLD_PASSWORD = "the river at dawn, before"
NEW_PASSWORD = "a lantern in the window"


def sign_up_through_an_invitation(page: Page, link: str, name: str, email: str) -> str:
    """The client accepts the invitation; returns the recovery key as shown, once."""
    page.goto(link)
    expect(page.get_by_label("Your name")).to_have_value(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Choose a password").fill(OLD_PASSWORD)
    page.get_by_label("Type the password again").fill(OLD_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Your recovery key")).to_be_visible(timeout=15_000)
    groups = page.locator(".recovery-key span").all_inner_texts()
    assert len(groups) == 14
    page.get_by_label("Type the last group of your recovery key").fill(groups[-1])
    page.get_by_role("button", name=re.compile("I have saved it")).click()
    accept_agreement(page)
    return "-".join(groups)


def test_a_client_recovers_a_forgotten_password_in_a_new_browser(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    therapist = new_page()
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    suffix = uuid.uuid4().hex[:6]
    name = f"Rowan {suffix}"
    email = f"rowan-{suffix}@example.invalid"
    t.get_by_label("Client's name").fill(name)
    t.get_by_role("button", name="Create invitation link").click()
    link_field = t.get_by_label(f"Invitation link for {name}")
    expect(link_field).to_have_value(re.compile(r"/invite#"))
    link = link_field.input_value()

    old = new_page()
    o = old.page
    recovery_key = sign_up_through_an_invitation(o, link, name, email)
    before = f"Written before I forgot, {suffix}"
    sent_plaintexts.append(before)
    send(o, before)
    open_conversation(t, name)
    expect(message_items(t, before)).to_have_count(1)

    # A new browser: nothing of the old one, only the recovery key written down.
    fresh = new_page()
    f = fresh.page
    recovery_requests: list[str] = []

    def note(request: Request) -> None:
        if "/api/auth/recover/" in request.url:
            recovery_requests.append(request.url)

    f.on("request", note)
    f.goto(server.url + "/")
    f.get_by_role("link", name="Forgot your password?").click()
    expect(f.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    assert f.url == server.url + "/recover"
    f.get_by_label("Email").fill(email)
    typo = recovery_key[:10] + ("B" if recovery_key[10] != "B" else "C") + recovery_key[11:]
    f.get_by_label("Recovery key").fill(typo)
    f.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    f.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    f.get_by_role("button", name="Set the new password").click()
    expect(f.get_by_role("alert")).to_contain_text("mistyped")
    assert recovery_requests == [], "a typo is caught before anything is sent"
    screenshot(f, "recover")
    check_accessibility(f, "recover, with a mistyped key")

    f.get_by_label("Recovery key").fill(recovery_key.lower().replace("-", " "))
    f.get_by_role("button", name="Set the new password").click()

    # Signed in, the conversation's history decrypted, and able to write.
    expect(f.get_by_role("heading", name="Dr. Dana Demo")).to_be_visible(timeout=15_000)
    assert f.url.startswith(server.url + "/#/c/"), f.url
    expect(message_items(f, before)).to_have_count(1)
    expect(f.locator(".message.unopened")).to_have_count(0)
    after = f"Written after recovering, {suffix}"
    sent_plaintexts.append(after)
    send(f, after)
    expect(f.locator(".message.mine").filter(has_text=after)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$")
    )
    assert len(recovery_requests) == 2

    # The therapist gets it, with no warning: the client's keys did not change.
    expect(message_items(t, after)).to_have_count(1)
    expect(t.locator(".conversation .banner")).to_be_hidden()

    # The old browser's session ended: it is back at sign-in, its keys gone.
    expect(o.get_by_role("heading", name="Sign in")).to_be_visible(timeout=15_000)
    expect(o.get_by_text("Your session ended")).to_be_visible()

    # The new password signs in there again (the old one is refused: tests/http).
    sign_in(o, server.url, email, NEW_PASSWORD)
    expect(message_items(o, after)).to_have_count(1)

    for page in (therapist, old, fresh):
        page.assert_clean()
