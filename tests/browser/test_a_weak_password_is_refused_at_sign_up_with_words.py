"""At sign-up through an invitation, the password's strength is shown as a meter with
words that change as the person types; a password too easy to guess is refused with words
that say why, and nothing is sent; a strong one makes the account."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from confide_client import ConfideClient
from tests.browser.conftest import Demo
from tests.browser.pages import Watched, check_accessibility, expect, screenshot
from tests.browser.peers import as_user
from tests.browser.server import Server


def test_a_weak_password_is_refused_at_sign_up_with_words(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    suffix = uuid.uuid4().hex[:6]

    async def invite(therapist: ConfideClient) -> str:
        return (await therapist.create_invitation(f"Sky {suffix}")).path

    path = as_user(server.url, demo.therapist.email, demo.therapist.password, invite)
    client = new_page()
    c = client.page
    accepts: list[str] = []
    c.on("request", lambda r: accepts.append(r.url) if "/invitations/accept" in r.url else None)
    c.goto(server.url + path)
    expect(c.get_by_role("heading", name="Dr. Dana Demo invited you")).to_be_visible()
    c.get_by_label("Email").fill(f"sky-{suffix}@example.invalid")
    password = c.get_by_label("Choose a password")
    words = c.locator(".strength-words")
    meter = c.get_by_role("meter", name="Password strength")

    password.fill("password123")
    expect(words).to_have_text("Strength: Too weak. This is a commonly used password.")
    expect(words).to_have_attribute("aria-live", "polite")
    password.fill("Sunshine2024!")
    expect(words).to_have_text("Strength: Fair. This is similar to a commonly used password.")
    expect(meter).to_have_attribute("value", "3")
    c.get_by_label("Type the password again").fill("Sunshine2024!")
    c.get_by_role("button", name="Create my account").click()

    expect(c.get_by_role("alert")).to_have_text(
        "This password is too easy to guess (Fair). This is similar to a commonly used password."
    )
    expect(password).to_be_focused()
    screenshot(c, "invitation-weak-password")
    check_accessibility(c, "invitation form with a weak password")

    password.fill("a calm river at dawn")
    expect(words).to_have_text("Strength: Very strong.")
    c.get_by_label("Type the password again").fill("a calm river at dawn")
    assert accepts == [], "a refused password sends nothing"
    c.get_by_role("button", name="Create my account").click()
    expect(c.get_by_role("heading", name="Your recovery key")).to_be_visible(timeout=15_000)
    assert len(accepts) == 1
    client.assert_clean()
