"""The known-browser cookie a sign-in sets lets its browser past others' failures, and
nothing else does: not a made-up value, not one signed with another key, not a cookie of
another account (under its own name or the other's), not one from before the password
changed. It is HttpOnly, SameSite=Strict, Secure when cookies are, sent to the sign-in path
only, and kept by a plain Python HTTP client (httpx, as ``confide_client`` uses)."""

from __future__ import annotations

import json

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from accounts.limits import KnownBrowser
from tests.http.conftest import Browser
from tests.http.signing_in import (
    CAFE,
    HOME,
    SECOND_FACTOR,
    SIGN_IN,
    at,
    known_browser_cookies,
    moved_to,
    right,
    signed_in_once_at,
    wrong,
)
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db


def past_the_ceiling(person: Person) -> None:
    """Strangers use up the account's ceiling, so only a known place gets in."""
    for number in range(settings.CONFIDE_SIGNIN_EMAIL_ATTEMPTS):
        wrong(at(f"192.0.2.{number + 1}"), person.user.email, number)
    assert right(at("192.0.2.250"), person).status == 429


def carrying(name: str, value: str, address: str = CAFE) -> Browser:
    browser = at(address)
    browser.client.cookies[name] = value
    return browser


def test_the_cookie_is_http_only_strict_for_the_sign_in_path_and_lasts_the_known_days(
    world: Practice5,
) -> None:
    browser = signed_in_once_at(HOME, world.therapist)

    [name] = known_browser_cookies(browser)
    cookie = browser.client.cookies[name]
    assert name == KnownBrowser.name(world.therapist.user)
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == SIGN_IN
    assert cookie["max-age"] == settings.CONFIDE_SIGNIN_KNOWN_ADDRESS_DAYS * 86400


@override_settings(SECURE_COOKIES=True)
def test_the_cookie_is_secure_when_cookies_are(world: Practice5) -> None:
    browser = signed_in_once_at(HOME, world.therapist)

    [name] = known_browser_cookies(browser)
    assert browser.client.cookies[name]["secure"]


def test_a_made_up_or_otherwise_signed_cookie_counts_for_nothing(world: Practice5) -> None:
    theo = world.therapist
    laptop = signed_in_once_at(HOME, theo)
    [(name, value)] = known_browser_cookies(laptop).items()
    past_the_ceiling(theo)

    forged = [
        "a made-up value",
        value[:-1] + ("A" if value[-1] != "A" else "B"),
        signing.get_cookie_signer(salt=name).sign("a nonce of my choosing"),
        signing.TimestampSigner(key="another key", salt=name).sign("x"),
    ]
    for cookie in forged:
        assert right(carrying(name, cookie), theo).status == 429, cookie
    assert right(carrying(name, value), theo).status == 200


def test_another_accounts_cookie_does_not_count_under_either_name(world: Practice5) -> None:
    theo, olive = world.therapist, world.other_therapist
    thief = signed_in_once_at(HOME, olive)
    [(olive_name, olive_value)] = known_browser_cookies(thief).items()
    past_the_ceiling(theo)

    theo_name = KnownBrowser.name(theo.user)
    assert right(carrying(theo_name, olive_value), theo).status == 429
    assert right(carrying(olive_name, olive_value), theo).status == 429
    assert right(moved_to(thief, CAFE), theo).status == 429


def test_a_cookie_from_before_the_password_changed_counts_for_nothing(
    world: Practice5,
) -> None:
    theo = world.therapist
    laptop = signed_in_once_at(HOME, theo)
    past_the_ceiling(theo)
    assert right(moved_to(laptop, CAFE), theo).status == 200

    theo.user.password = make_password(theo.auth_secret)  # the same secret, hashed anew
    theo.user.save(update_fields=["password"])

    assert right(moved_to(laptop, "198.51.100.201"), theo).status == 429


@pytest.mark.django_db(transaction=True)
def test_a_python_http_client_keeps_the_cookie_and_gets_in_on_another_network(
    world: Practice5,
) -> None:
    # A real WSGI handler, as a server runs it: each request commits (and the handler
    # closes its connection at the end), so the test's database is not one transaction.
    _sign_in_on_two_networks(world.therapist, get_wsgi_application())


def _sign_in_on_two_networks(theo: Person, app: WSGIHandler) -> None:

    def client(address: str, cookies: httpx.Cookies | None = None) -> httpx.Client:
        transport = httpx.WSGITransport(app=app, remote_addr=address)
        # https, as in production, where the cookies are Secure and sent over https only.
        return httpx.Client(transport=transport, base_url="https://testserver", cookies=cookies)

    def sign_in(http: httpx.Client) -> httpx.Response:
        token = http.get("/api/csrf").json()["csrf_token"]
        body = {"email": theo.user.email, "auth_secret": theo.auth_secret}
        headers = {
            "X-CSRFToken": token,
            "Content-Type": "application/json",
            # Django checks where an https POST comes from, as a browser would say.
            "Referer": "https://testserver/",
        }
        reply = http.post(SIGN_IN, content=json.dumps(body), headers=headers)
        if reply.status_code != 200 or not reply.json().get("second_factor_required"):
            return reply
        code = {"totp": theo.totp_code()}
        return http.post(SECOND_FACTOR, content=json.dumps(code), headers=headers)

    with client(HOME) as at_home:
        assert sign_in(at_home).status_code == 200
        jar = at_home.cookies
        assert any(cookie.name == KnownBrowser.name(theo.user) for cookie in jar.jar)
    past_the_ceiling(theo)

    with client(CAFE, jar) as elsewhere:
        assert sign_in(elsewhere).status_code == 200
    with client("198.51.100.201") as without_it:
        assert sign_in(without_it).status_code == 429
