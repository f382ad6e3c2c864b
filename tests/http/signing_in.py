"""Steps of the sign-in limit tests: people signing in from a place (an address, and a
browser that keeps its cookies), with their right secret or a wrong one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import crypto
from accounts.limits import KNOWN_BROWSER_PREFIX
from tests.http.conftest import Browser, Reply
from tests.personas import Person

SIGN_IN = "/api/auth/signin"
SECOND_FACTOR = "/api/auth/signin/second-factor"

# Addresses from the documentation ranges (RFC 5737, RFC 3849).
CLINIC = "203.0.113.10"
HOME = "203.0.113.20"
CAFE = "198.51.100.200"


def at(address: str) -> Browser:
    """A new browser (no cookies) at ``address``."""
    return Browser(REMOTE_ADDR=address)


def sign_in(browser: Browser, email: str, auth_secret: str) -> Reply:
    return browser.post(SIGN_IN, {"email": email, "auth_secret": auth_secret})


def right(browser: Browser, person: Person) -> Reply:
    """The person signs in with their right secret and, when they have an authenticator
    app, its code: the answer of the last step."""
    reply = sign_in(browser, person.user.email, person.auth_secret)
    if reply.status == 200 and reply.json().get("second_factor_required"):
        return browser.post(SECOND_FACTOR, {"totp": person.totp_code()})
    return reply


def wrong_secret(number: int = 0) -> str:
    """A well-formed secret that is no account's."""
    return crypto.b64encode(number.to_bytes(32, "big"))


def wrong(browser: Browser, email: str, number: int = 0) -> Reply:
    return sign_in(browser, email, wrong_secret(number))


def statuses(replies: Iterable[Reply]) -> Counter[int]:
    return Counter(reply.status for reply in replies)


def known_browser_cookies(browser: Browser) -> dict[str, str]:
    """The known-browser cookies the browser holds: name to value."""
    return {
        name: morsel.value
        for name, morsel in browser.client.cookies.items()
        if name.startswith(KNOWN_BROWSER_PREFIX) and morsel.value
    }


def signed_in_once_at(address: str, person: Person) -> Browser:
    """The person's own browser, after they signed in with it at ``address``."""
    browser = at(address)
    reply = right(browser, person)
    assert reply.status == 200, reply.content
    assert len(known_browser_cookies(browser)) == 1
    return browser


def moved_to(browser: Browser, address: str) -> Browser:
    """The same browser (its cookies) on another network."""
    moved = at(address)
    for name, value in known_browser_cookies(browser).items():
        moved.client.cookies[name] = value
    return moved
