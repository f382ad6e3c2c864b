"""Steps of the second-factor tests: the two steps of a sign-in, and enrolling an
authenticator app or a passkey through the API as the web client does."""

from __future__ import annotations

from typing import Any

import pyotp

from accounts.factors import totp
from tests.authenticator import next_code
from tests.http.conftest import Browser, Reply
from tests.passkey import SoftAuthenticator
from tests.personas import Person

SIGN_IN = "/api/auth/signin"
SECOND_FACTOR = "/api/auth/signin/second-factor"
PASSKEY_OPTIONS = "/api/auth/signin/passkey-options"


def first_step(browser: Browser, person: Person) -> Reply:
    return browser.post(SIGN_IN, {"email": person.user.email, "auth_secret": person.auth_secret})


def second_step(browser: Browser, **proof: Any) -> Reply:
    return browser.post(SECOND_FACTOR, proof)


def waiting_for_second_factor(person: Person) -> Browser:
    """A new browser in which ``person`` gave their right secret."""
    browser = Browser()
    reply = first_step(browser, person)
    assert reply.status == 200, reply.content
    assert reply.json()["second_factor_required"] is True
    return browser


def code_at_offset(secret: str, steps: int) -> str:
    """The code of the time step ``steps`` away from now."""
    return pyotp.TOTP(secret).generate_otp(totp.current_step() + steps)


def enrol_app(browser: Browser) -> tuple[str, list[str]]:
    """Sets up an authenticator app for the browser's account: its secret and the
    recovery codes shown."""
    begun = browser.post("/api/2fa/totp/begin")
    assert begun.status == 200, begun.content
    secret: str = begun.json()["secret"]
    confirmed = browser.post("/api/2fa/totp/confirm", {"code": next_code(secret)})
    assert confirmed.status == 200, confirmed.content
    codes: list[str] = confirmed.json()["recovery_codes"]
    return secret, codes


def enrol_passkey(browser: Browser, name: str = "Laptop") -> tuple[SoftAuthenticator, Reply]:
    authenticator = SoftAuthenticator()
    begun = browser.post("/api/2fa/webauthn/register/begin")
    assert begun.status == 200, begun.content
    credential = authenticator.create(begun.json()["options"])
    finished = browser.post(
        "/api/2fa/webauthn/register/finish", {"credential": credential, "name": name}
    )
    return authenticator, finished
