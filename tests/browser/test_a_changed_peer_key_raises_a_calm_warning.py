"""What a person saw of their therapist's key is kept in their pin record on the server,
sealed for them (crypto/SPEC.md, "Pins"), so that a key the server serves after the next
sign-in, in a fresh browser, is compared with it. The server's database is edited here to
put another key in the therapist's place between two sign-ins, as a compromised server
could. A key seen before raises a calm warning that blocks nothing and leads to the
safety number, and the next message begins a new epoch first (crypto/SPEC.md, "Epoch
rotation"); a key the person verified in person blocks writing until they compare again
or accept the change."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page

from crypto import IdentityKeyPair
from tests.browser.conftest import Demo
from tests.browser.pages import (
    Watched,
    accept_agreement,
    check_accessibility,
    expect,
    invite,
    join_through_link,
    message_items,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server

PASSWORD = "a calm river at dawn"
THERAPIST = "Dr. Dana Demo"


@pytest.fixture
def substitute(server: Server, demo: Demo) -> Iterator[Callable[[], None]]:
    """Puts another identity in the therapist's place; the real one is put back after."""
    real = bytes(
        server.stack.query_one(
            "SELECT public_identity FROM accounts_user WHERE email = ?", demo.therapist.email
        )
    )
    impostor = IdentityKeyPair.generate().public.to_bytes()

    def swap() -> None:
        server.execute(
            "UPDATE accounts_user SET public_identity = ? WHERE email = ?",
            impostor,
            demo.therapist.email,
        )

    yield swap
    server.execute(
        "UPDATE accounts_user SET public_identity = ? WHERE email = ?",
        real,
        demo.therapist.email,
    )


def _new_client(server: Server, demo: Demo, new_page: Callable[..., Watched]) -> tuple[str, str]:
    """A client of the demo therapist with a conversation of their own; their email."""
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Sky {suffix}", f"sky-{suffix}@example.invalid"
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    link = invite(t, name)
    t.context.close()
    client = new_page()
    join_through_link(client.page, link, PASSWORD, email=email)
    accept_agreement(client.page)
    client.page.context.close()
    return name, email


def _signed_in(server: Server, email: str, new_page: Callable[..., Watched]) -> Watched:
    """The client, signed in in a browser that has never seen anything."""
    watched = new_page(390, 844)
    sign_in(watched.page, server.url, email, PASSWORD)
    expect(watched.page.get_by_role("heading", name=THERAPIST)).to_be_visible()
    return watched


def _compare(page: Page, button: str) -> None:
    page.locator(".banner, .conversation-head").get_by_role(
        "link", name="Compare safety number"
    ).first.click()
    expect(page.get_by_role("heading", name=f"Safety number with {THERAPIST}")).to_be_visible()
    page.get_by_role("button", name=button).click()


def test_a_seen_key_changed_between_sign_ins_raises_a_calm_warning(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
    substitute: Callable[[], None],
) -> None:
    _name, email = _new_client(server, demo, new_page)
    first = _signed_in(server, email, new_page)
    expect(first.page.locator(".banner")).to_be_hidden()
    first.page.context.close()

    substitute()
    client = _signed_in(server, email, new_page)
    c = client.page
    banner = c.locator(".banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("security keys have changed since you last saw them")
    expect(c.locator("#composer-text")).to_be_enabled()
    screenshot(c, "key-changed-warning")

    # The next message goes under a new epoch, begun (and wrapped to the keys served now)
    # before it is sent; one change begins one epoch.
    for n in (1, 2):
        text = f"After the key change, {n} {uuid.uuid4().hex[:8]}"
        sent_plaintexts.append(text)
        send(c, text)
        expect(message_items(c, text)).to_have_count(1)
        expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
            "data-state", re.compile("^(sent|read)$")
        )
    [(rekeyed_at, rekey)] = client.frames_of("sent", "rekey")
    sends = client.frames_of("sent", "send")
    assert [f["epoch"] for _, f in sends] == [rekey["epoch"]] * 2
    assert rekeyed_at < sends[0][0]
    _compare(c, "We compared the new number and it matches")
    expect(c.get_by_role("heading", name=THERAPIST)).to_be_visible()
    expect(banner).to_be_hidden()
    client.assert_clean()


def test_a_verified_key_changed_between_sign_ins_holds_what_is_written(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
    substitute: Callable[[], None],
) -> None:
    _name, email = _new_client(server, demo, new_page)
    first = _signed_in(server, email, new_page)
    f = first.page
    f.get_by_role("link", name="Safety number").click()
    expect(f.locator(".verified-status")).to_contain_text("Not verified yet")
    check_accessibility(f, "the safety number before it is verified")
    f.get_by_role("button", name="We compared the numbers and they match").click()
    expect(f.locator(".verified-status")).to_contain_text("You verified")
    screenshot(f, "safety-number-verified")
    f.wait_for_timeout(500)  # the pin record is written
    f.context.close()

    substitute()
    client = _signed_in(server, email, new_page)
    c = client.page
    banner = c.locator(".banner")
    expect(banner).to_contain_text(f"{THERAPIST}'s security key changed since you verified it")
    expect(c.locator("#composer-text")).to_be_disabled()
    expect(c.get_by_role("button", name="Send")).to_be_disabled()
    screenshot(c, "verified-key-changed-holds-writing")
    check_accessibility(c, "a conversation held for a changed verified key")
    assert client.frames_of("sent", "send") == []
    assert client.frames_of("sent", "rekey") == []

    banner.get_by_role("button", name="Accept the new key without comparing").click()
    expect(banner).to_be_hidden()
    expect(c.locator("#composer-text")).to_be_enabled()
    text = f"Written once the new key was accepted {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    send(c, text)
    expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$")
    )
    client.assert_clean()
