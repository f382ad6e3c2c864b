"""The personas' authenticator app: the code to type for a TOTP secret they enrolled.

The server takes a code only for a time step later than the last one it took (and one
step either side of now), so two sign-ins in the same 30 seconds cannot type the same
code. Like a person, this app then gives the code of a later step the server still takes,
and waits for the clock when there is none: at most three sign-ins of one account per
30 seconds, a pause after that. The steps given are remembered per secret, for the whole
test session.

Secrets are also registered by the portal's address and the account's email, for the
steps (a browser page, a client) that know only those.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pyotp

from tests.passkey import SoftAuthenticator

__all__ = ["code_for", "next_code", "passkey_at", "prompt", "register", "secret_for"]

PERIOD_S = 30
# Steps the server takes either side of its own (accounts.factors.totp.DRIFT_STEPS).
DRIFT_STEPS = 1
# A code of the step before now is typed only this early in the current step, so that it
# still is "the step before" when the server reads it.
_SAFE_INTO_STEP_S = 20

_lock = threading.Lock()
_last_step: dict[str, int] = {}
_registered: dict[tuple[str, str], str] = {}
_passkeys: dict[tuple[str, str], SoftAuthenticator] = {}


def next_code(secret: str) -> str:
    """A code of ``secret`` the server will take now and has not taken, waiting for the
    clock if need be."""
    with _lock:
        while True:
            now = time.time()
            step_now = int(now // PERIOD_S)
            earliest = step_now - DRIFT_STEPS if now % PERIOD_S < _SAFE_INTO_STEP_S else step_now
            step = max(earliest, _last_step.get(secret, earliest - 1) + 1)
            if step <= step_now + DRIFT_STEPS:
                break
            # Every step the server takes now was used: wait for the next one to begin.
            time.sleep(PERIOD_S - now % PERIOD_S + 0.05)
        _last_step[secret] = step
        return pyotp.TOTP(secret, interval=PERIOD_S).generate_otp(step)


def register(
    base_url: str, email: str, secret: str, *, passkey: SoftAuthenticator | None = None
) -> None:
    """Notes that the account ``email`` of the portal at ``base_url`` enrolled ``secret``
    (and ``passkey``)."""
    key = (base_url.rstrip("/"), email.lower())
    _registered[key] = secret
    if passkey is not None:
        _passkeys[key] = passkey


def secret_for(base_url: str, email: str) -> str | None:
    return _registered.get((base_url.rstrip("/"), email.lower()))


def code_for(base_url: str, email: str) -> str:
    """The next code of the account ``email`` of the portal at ``base_url``."""
    secret = secret_for(base_url, email)
    if secret is None:
        raise LookupError(f"{email} at {base_url} enrolled no authenticator app here")
    return next_code(secret)


def prompt(base_url: str, email: str) -> Callable[[list[str]], str] | None:
    """What ``ConfideClient.sign_in`` takes as ``second_factor`` for the account ``email``
    of the portal at ``base_url``: its app's next code, or None when it enrolled none."""
    secret = secret_for(base_url, email)
    if secret is None:
        return None
    return lambda methods: next_code(secret)


def passkey_at(base_url: str, email: str) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What ``ConfideClient.sign_in`` takes as ``passkey`` for the account ``email`` of the
    portal at ``base_url``, or None when it has none registered here."""
    passkey = _passkeys.get((base_url.rstrip("/"), email.lower()))
    return passkey.answer_at(base_url) if passkey is not None else None
