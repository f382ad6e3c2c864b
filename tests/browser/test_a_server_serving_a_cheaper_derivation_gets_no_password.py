"""A server that serves an account's Argon2id parameters below the browser's floor (its
sign-up default, 3 passes and 64 MiB) gets no password: the page refuses before deriving,
says why in words, and sends no authentication secret. The account here was made with
cheaper parameters on purpose (the Python library, its floor lowered), which is what a
server lying about an account's parameters looks like to the browser."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from confide_client import ConfideClient
from crypto import KdfParams
from tests.browser.conftest import Demo
from tests.browser.pages import Watched, expect, screenshot
from tests.browser.peers import as_user, run
from tests.browser.server import Server

PASSWORD = "a cheap derivation is refused in the browser"
CHEAP = KdfParams(opslimit=2, memlimit=32 * 1024 * 1024)


def test_a_server_serving_a_cheaper_derivation_gets_no_password(
    server: Server, demo: Demo, new_page: Callable[..., Watched]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Quinn {suffix}", f"quinn-{suffix}@example.invalid"

    async def invite(therapist: ConfideClient) -> str:
        return (await therapist.create_invitation(name)).fragment

    token = as_user(server.url, demo.therapist.email, demo.therapist.password, invite)

    async def sign_up() -> None:
        async with ConfideClient(server.url, backfill=False, kdf_floor=CHEAP) as client:
            await client.accept_invitation(token, email, name, PASSWORD, kdf_params=CHEAP)

    run(sign_up)

    watched = new_page(1280, 800)
    page = watched.page
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#signin-error")
    expect(alert).to_contain_text("protect your password less well than it allows")
    expect(alert).to_contain_text("your password was not used")
    screenshot(page, "sign-in-refuses-a-cheaper-derivation")
    assert any(url.endswith("/api/auth/params") for url in posted), posted
    assert not any(url.endswith("/api/auth/signin") for url in posted), posted
    # Still on the sign-in form, which can be used again.
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()

    # The demo therapist, whose account has the default parameters, signs in as ever.
    async def check(therapist: ConfideClient) -> str:
        assert therapist.account is not None
        return therapist.account.email

    assert as_user(server.url, demo.therapist.email, demo.therapist.password, check) == (
        demo.therapist.email
    )
