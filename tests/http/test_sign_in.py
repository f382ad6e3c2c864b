"""Sign-in with a password-derived secret, its failures, its throttle, and sign-out.

The browser derives the authentication secret from the password with the parameters the
server gives it (``POST /api/auth/params``); the password itself never travels.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.test import Client, override_settings

import crypto
from confide_client.keys import open_key_bundle
from crypto import KdfParams, PublicIdentity
from tests.http.conftest import ACCOUNT_EMAIL, PASSWORD, Account, Browser, Reply

pytestmark = pytest.mark.django_db

SIGN_IN = "/api/auth/signin"


def derive_auth_secret(browser: Browser, email: str, password: str) -> str:
    """What the page does before signing in: fetch the parameters, run Argon2id."""
    params = browser.post("/api/auth/params", {"email": email}).json()
    keys = crypto.derive_password_keys(
        password,
        crypto.b64decode(params["salt"]),
        KdfParams(params["opslimit"], params["memlimit"]),
    )
    return keys.auth_secret_b64()


def sign_in(browser: Browser, email: str, auth_secret: str) -> Reply:
    return browser.post(SIGN_IN, {"email": email, "auth_secret": auth_secret})


def a_wrong_secret() -> str:
    return crypto.b64encode(bytes(32))


def test_the_right_secret_signs_in_and_returns_a_bundle_the_password_opens(
    browser: Browser, account: Account
) -> None:
    reply = sign_in(browser, ACCOUNT_EMAIL, derive_auth_secret(browser, ACCOUNT_EMAIL, PASSWORD))

    assert reply.status == 200, reply.content
    me = reply.json()["user"]
    assert me["id"] == account.user.pk
    assert me["email"] == ACCOUNT_EMAIL
    assert browser.session_key is not None
    assert browser.signed_in_user() == account.user.pk
    public = PublicIdentity.from_bytes(crypto.b64decode(me["public_identity"]))
    assert public == account.material.public_identity
    kdf = me["kdf"]
    identity = open_key_bundle(
        PASSWORD,
        crypto.b64decode(kdf["salt"]),
        KdfParams(kdf["opslimit"], kdf["memlimit"]),
        crypto.b64decode(me["key_bundle"]),
        public,
    )
    assert identity.public == account.material.public_identity


def test_the_email_may_be_typed_in_any_case(browser: Browser, account: Account) -> None:
    secret = derive_auth_secret(browser, "Sam@Practice.Invalid", PASSWORD)
    reply = sign_in(browser, "Sam@Practice.Invalid", secret)
    assert reply.status == 200, reply.content
    assert browser.signed_in_user() == account.user.pk


def test_a_wrong_password_gets_the_same_answer_as_an_unknown_email(
    browser: Browser, account: Account
) -> None:
    wrong_password = sign_in(
        browser, ACCOUNT_EMAIL, derive_auth_secret(browser, ACCOUNT_EMAIL, "not the password")
    )
    # The account's own, right secret, sent for an email that has no account.
    unknown_email = sign_in(
        browser, "nobody@practice.invalid", crypto.b64encode(account.material.auth_secret)
    )

    assert wrong_password.status == unknown_email.status == 401
    assert wrong_password.code == "unauthenticated"
    assert wrong_password.json() == unknown_email.json()
    assert browser.session_key is None
    assert browser.signed_in_user() is None


def body_with(account: Account, **changes: Any) -> bytes:
    body: dict[str, Any] = {
        "email": ACCOUNT_EMAIL,
        "auth_secret": crypto.b64encode(account.material.auth_secret),
    }
    body.update(changes)
    return json.dumps(body).encode()


def without(account: Account, name: str) -> bytes:
    body = json.loads(body_with(account))
    del body[name]
    return json.dumps(body).encode()


def padded_to(account: Account, size: int) -> bytes:
    """The right email and secret, padded with whitespace to ``size`` bytes: valid JSON."""
    right = body_with(account)
    return right[:-1] + b" " * (size - len(right)) + right[-1:]


MALFORMED: dict[str, Any] = {
    "empty body": lambda account: b"",
    "missing email": lambda account: without(account, "email"),
    "missing secret": lambda account: without(account, "auth_secret"),
    "extra field": lambda account: body_with(account, remember_me=True),
    "secret of wrong type": lambda account: body_with(
        account, auth_secret=list(account.material.auth_secret)
    ),
    "email of wrong type": lambda account: body_with(account, email=["sam@practice.invalid"]),
    "secret one character short": lambda account: body_with(
        account, auth_secret=crypto.b64encode(account.material.auth_secret)[:-1]
    ),
    "secret one character long": lambda account: body_with(
        account, auth_secret=crypto.b64encode(account.material.auth_secret) + "A"
    ),
    "secret in padded base64": lambda account: body_with(
        account, auth_secret=crypto.b64encode(account.material.auth_secret) + "="
    ),
    "not JSON": lambda account: b"email=sam@practice.invalid",
    "a JSON list": lambda account: b"[]",
}


@pytest.mark.parametrize("make_body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_body_is_refused_and_opens_no_session(
    browser: Browser, account: Account, make_body: Any
) -> None:
    reply = browser.post(SIGN_IN, raw=make_body(account))

    assert reply.status == 400, reply.content
    assert reply.code == "bad_request"
    assert browser.session_key is None
    assert browser.signed_in_user() is None


def test_a_body_one_byte_over_64_kib_is_refused_as_too_large_and_opens_no_session(
    browser: Browser, account: Account
) -> None:
    reply = browser.post(SIGN_IN, raw=padded_to(account, 64 * 1024 + 1))

    assert reply.status == 413, reply.content
    assert reply.code == "body_too_large"
    assert browser.session_key is None
    assert browser.signed_in_user() is None


@pytest.mark.parametrize(
    "make_body",
    [body_with, lambda account: padded_to(account, 64 * 1024)],
    ids=["as it is", "padded to exactly 64 KiB"],
)
def test_the_well_formed_body_the_malformed_ones_start_from_signs_in(
    browser: Browser, account: Account, make_body: Any
) -> None:
    body = make_body(account)
    assert len(body) <= 64 * 1024

    reply = browser.post(SIGN_IN, raw=body)

    assert reply.status == 200, reply.content
    assert browser.signed_in_user() == account.user.pk


def test_the_session_cookie_is_http_only_and_same_site_strict(
    browser: Browser, account: Account
) -> None:
    reply = sign_in(browser, ACCOUNT_EMAIL, crypto.b64encode(account.material.auth_secret))

    assert reply.status == 200, reply.content
    cookie = browser.client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert browser.client.cookies["csrftoken"]["samesite"] == "Strict"


@override_settings(CONFIDE_SIGNIN_PAIR_ATTEMPTS=3)
def test_after_too_many_failures_from_one_place_even_the_right_secret_is_refused_there(
    browser: Browser, account: Account
) -> None:
    for _ in range(3):
        assert sign_in(browser, ACCOUNT_EMAIL, a_wrong_secret()).status == 401

    reply = sign_in(browser, ACCOUNT_EMAIL, crypto.b64encode(account.material.auth_secret))

    assert reply.status == 429
    assert reply.code == "rate_limited"
    assert reply.json()["error"]["retry_after_s"] > 0
    assert browser.signed_in_user() is None


@override_settings(CONFIDE_SIGNIN_PAIR_ATTEMPTS=3)
def test_failures_below_the_limit_do_not_lock_the_account(
    browser: Browser, account: Account
) -> None:
    for _ in range(2):
        assert sign_in(browser, ACCOUNT_EMAIL, a_wrong_secret()).status == 401

    reply = sign_in(browser, ACCOUNT_EMAIL, crypto.b64encode(account.material.auth_secret))

    assert reply.status == 200, reply.content


def right_secret(account: Account) -> str:
    return crypto.b64encode(account.material.auth_secret)


@override_settings(CONFIDE_SIGNIN_PAIR_ATTEMPTS=3, CONFIDE_SIGNIN_EMAIL_ATTEMPTS=20)
def test_strangers_failing_for_an_email_do_not_lock_its_owner_out(account: Account) -> None:
    spellings = ["sam@practice.invalid", "SAM@practice.invalid", "Sam@Practice.Invalid"]
    for number, spelling in enumerate(spellings):
        stranger = Browser(REMOTE_ADDR=f"198.51.100.{number + 1}")
        for _ in range(3):
            assert sign_in(stranger, spelling, a_wrong_secret()).status == 401
        # Each stranger's own address is locked for the account ...
        assert sign_in(stranger, spelling, right_secret(account)).status == 429

    # ... but not the owner, from an address of their own.
    owner = Browser(REMOTE_ADDR="203.0.113.20")
    reply = sign_in(owner, ACCOUNT_EMAIL, right_secret(account))

    assert reply.status == 200, reply.content


@override_settings(CONFIDE_SIGNIN_PAIR_ATTEMPTS=3, CONFIDE_SIGNIN_EMAIL_ATTEMPTS=4)
def test_past_the_email_ceiling_only_addresses_it_signed_in_from_get_through(
    account: Account,
) -> None:
    owner = Browser(REMOTE_ADDR="203.0.113.20")
    assert sign_in(owner, ACCOUNT_EMAIL, right_secret(account)).status == 200
    spellings = ["sam@practice.invalid", "SAM@practice.invalid"]
    for number, spelling in enumerate(spellings):
        stranger = Browser(REMOTE_ADDR=f"198.51.100.{number + 1}")
        for _ in range(2):
            assert sign_in(stranger, spelling, a_wrong_secret()).status == 401

    # The email's ceiling is reached: guessing from yet another address stops, and so
    # does the right secret from an address the account never signed in from ...
    guesser = Browser(REMOTE_ADDR="198.51.100.9")
    refused = sign_in(guesser, ACCOUNT_EMAIL, right_secret(account))
    assert refused.status == 429
    assert refused.code == "rate_limited"
    assert refused.json()["error"]["retry_after_s"] > 0

    # ... while the owner, from where they signed in before, still gets in.
    again = Browser(REMOTE_ADDR="203.0.113.20")
    reply = sign_in(again, ACCOUNT_EMAIL, right_secret(account))
    assert reply.status == 200, reply.content


@override_settings(CONFIDE_SIGNIN_ATTEMPTS=3, CONFIDE_SIGNIN_PAIR_ATTEMPTS=3)
def test_successful_sign_ins_do_not_use_up_an_addresss_attempts(account: Account) -> None:
    office = Browser(REMOTE_ADDR="203.0.113.30")
    for _ in range(5):
        assert sign_in(office, ACCOUNT_EMAIL, right_secret(account)).status == 200
    for _ in range(2):
        assert sign_in(office, ACCOUNT_EMAIL, a_wrong_secret()).status == 401

    assert sign_in(office, ACCOUNT_EMAIL, right_secret(account)).status == 200


CONCURRENT = 8


@override_settings(CONFIDE_SIGNIN_ATTEMPTS=3)
def test_attempts_at_the_same_moment_cannot_exceed_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every attempt is counted before its secret is checked, so a burst of parallel
    guesses gets no more answers than the limit allows."""

    def slow_refusal(request: Any, **credentials: Any) -> None:
        time.sleep(0.3)  # a check slow enough for every request to start meanwhile

    monkeypatch.setattr("accounts.views.authenticate", slow_refusal)
    start = threading.Barrier(CONCURRENT)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(number: int) -> None:
        guesser = Browser(REMOTE_ADDR="198.51.100.50")
        token = guesser.csrf_token()
        start.wait(timeout=10)
        reply = guesser.post_with_token(
            SIGN_IN,
            {"email": f"guess{number}@practice.invalid", "auth_secret": a_wrong_secret()},
            csrf_token=token,
        )
        with lock:
            statuses.append(reply.status)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [401] * 3 + [429] * (CONCURRENT - 3)


@override_settings(CONFIDE_SIGNIN_ATTEMPTS=3)
def test_failures_from_one_address_lock_it_for_accounts_that_do_not_know_it(
    account: Account,
) -> None:
    attacker = Browser(REMOTE_ADDR="198.51.100.7")
    for number in range(3):
        assert sign_in(attacker, f"guess{number}@practice.invalid", a_wrong_secret()).status == 401

    reply = sign_in(attacker, ACCOUNT_EMAIL, crypto.b64encode(account.material.auth_secret))

    assert reply.status == 429
    assert reply.code == "rate_limited"


@override_settings(CONFIDE_SIGNIN_ATTEMPTS=3)
def test_failures_from_one_address_do_not_lock_an_account_that_signed_in_there(
    account: Account,
) -> None:
    office = Browser(REMOTE_ADDR="198.51.100.7")
    assert sign_in(office, ACCOUNT_EMAIL, right_secret(account)).status == 200
    attacker = Browser(REMOTE_ADDR="198.51.100.7")
    for number in range(5):
        sign_in(attacker, f"guess{number}@practice.invalid", a_wrong_secret())

    reply = sign_in(Browser(REMOTE_ADDR="198.51.100.7"), ACCOUNT_EMAIL, right_secret(account))

    assert reply.status == 200, reply.content


def test_a_deactivated_account_cannot_sign_in(browser: Browser, account: Account) -> None:
    account.user.is_active = False
    account.user.save()

    reply = sign_in(browser, ACCOUNT_EMAIL, crypto.b64encode(account.material.auth_secret))

    assert reply.status == 401
    assert reply.code == "unauthenticated"
    assert browser.signed_in_user() is None


def test_sign_out_ends_the_session(browser: Browser, account: Account) -> None:
    signed_in = sign_in(browser, ACCOUNT_EMAIL, crypto.b64encode(account.material.auth_secret))
    assert signed_in.status == 200, signed_in.content
    assert browser.signed_in_user() == account.user.pk
    old_session = browser.session_key
    assert old_session is not None

    reply = browser.post("/api/auth/signout")

    assert reply.status == 200, reply.content
    assert browser.signed_in_user() is None
    replayed = Client()
    replayed.cookies["sessionid"] = old_session
    assert replayed.get("/api/me").status_code == 401


def test_sign_in_without_the_csrf_header_is_refused(browser: Browser, account: Account) -> None:
    browser.csrf_token()  # the cookie is there, as it would be for a cross-site form
    body = {"email": ACCOUNT_EMAIL, "auth_secret": crypto.b64encode(account.material.auth_secret)}

    refused = browser.post_without_csrf(SIGN_IN, body)

    assert refused.status == 403
    assert browser.signed_in_user() is None
    assert browser.post(SIGN_IN, body).status == 200


def test_sign_out_without_the_csrf_header_is_refused(browser: Browser, account: Account) -> None:
    sign_in(browser, ACCOUNT_EMAIL, crypto.b64encode(account.material.auth_secret))
    browser.csrf_token()

    refused = browser.post_without_csrf("/api/auth/signout")

    assert refused.status == 403
    assert browser.signed_in_user() == account.user.pk


@pytest.mark.parametrize("path", [SIGN_IN, "/api/auth/signout", "/api/auth/params"])
def test_a_get_on_a_post_endpoint_is_refused_with_allow(browser: Browser, path: str) -> None:
    reply = browser.get(path)

    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"
    assert reply.json()["error"]["code"] == "method_not_allowed"
