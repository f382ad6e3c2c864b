"""``POST /api/auth/params`` gives an account's Argon2id parameters and reveals nothing else.

For an email with no account the answer must look like a real one (same keys, a stable
salt per email, the default parameters), or the endpoint would tell anyone which emails
have accounts.
"""

from __future__ import annotations

from typing import Any

import pytest

import crypto
from tests.http.conftest import ACCOUNT_EMAIL, Account, Browser
from tests.personas import TEST_KDF

pytestmark = pytest.mark.django_db


def params_for(browser: Browser, email: str) -> dict[str, Any]:
    reply = browser.post("/api/auth/params", {"email": email})
    assert reply.status == 200, reply.content
    return reply.json()


def test_an_account_gets_its_own_salt_and_parameters(browser: Browser, account: Account) -> None:
    assert params_for(browser, ACCOUNT_EMAIL) == {
        "salt": crypto.b64encode(account.material.salt),
        "opslimit": TEST_KDF.opslimit,
        "memlimit": TEST_KDF.memlimit,
        "algorithm": "argon2id13",
    }


def test_an_unknown_email_gets_an_answer_of_the_same_shape(
    browser: Browser, account: Account
) -> None:
    real = params_for(browser, ACCOUNT_EMAIL)
    made_up = params_for(browser, "nobody@practice.invalid")
    assert made_up.keys() == real.keys()
    assert {key: type(value) for key, value in made_up.items()} == {
        key: type(value) for key, value in real.items()
    }
    assert len(crypto.b64decode(made_up["salt"])) == len(account.material.salt) == 16
    assert made_up["algorithm"] == "argon2id13"


def test_an_unknown_email_gets_the_default_parameters(browser: Browser, account: Account) -> None:
    made_up = params_for(browser, "nobody@practice.invalid")
    assert (made_up["opslimit"], made_up["memlimit"]) == (
        crypto.DEFAULT_KDF_PARAMS.opslimit,
        crypto.DEFAULT_KDF_PARAMS.memlimit,
    )
    # The account uses other parameters, so this answer was not copied from it.
    assert (TEST_KDF.opslimit, TEST_KDF.memlimit) != (
        made_up["opslimit"],
        made_up["memlimit"],
    )


def test_an_unknown_email_gets_the_same_salt_every_time(browser: Browser, account: Account) -> None:
    first = params_for(browser, "nobody@practice.invalid")
    again = params_for(Browser(), "nobody@practice.invalid")
    assert again == first


def test_different_unknown_emails_get_different_salts(browser: Browser, account: Account) -> None:
    salts = {
        params_for(browser, email)["salt"]
        for email in ("nobody@practice.invalid", "no-one@practice.invalid", "x@y.invalid")
    }
    assert len(salts) == 3
    assert crypto.b64encode(account.material.salt) not in salts


@pytest.mark.parametrize("spelling", ["SAM@PRACTICE.INVALID", "Sam@Practice.Invalid"])
def test_an_account_is_found_whatever_the_case_of_its_email(
    browser: Browser, account: Account, spelling: str
) -> None:
    assert params_for(browser, spelling) == params_for(browser, ACCOUNT_EMAIL)
    assert params_for(browser, spelling)["salt"] == crypto.b64encode(account.material.salt)


def test_an_unknown_email_gets_the_same_salt_whatever_its_case(
    browser: Browser, account: Account
) -> None:
    assert params_for(browser, "Nobody@Practice.INVALID") == params_for(
        browser, "nobody@practice.invalid"
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "not-an-email"}, {"email": 7}, {"email": ACCOUNT_EMAIL, "extra": 1}],
    ids=["missing email", "no at sign", "wrong type", "extra field"],
)
def test_a_malformed_request_is_refused(
    browser: Browser, account: Account, body: dict[str, Any]
) -> None:
    reply = browser.post("/api/auth/params", body)
    assert reply.status == 400
    assert reply.code == "bad_request"
