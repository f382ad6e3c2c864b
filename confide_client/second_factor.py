"""The second step of signing in, for an account with a second factor (docs/protocol.md,
"Second factors"): a code from the account's authenticator app, one of its recovery
codes, or a passkey's answer.

The caller gives the code as text, or as a function that asks for it (and is asked again,
up to ``TRIES`` times in all, after a wrong code): what looks like six digits is sent as
an app's code, anything else as a recovery code. A passkey is a function that answers the
server's WebAuthn request options (JSON, as ``navigator.credentials.get`` takes them)
with the assertion (JSON, as ``PublicKeyCredential.toJSON()`` writes it), for instance
through a FIDO2 library and a security key; it is used first when the account has one.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any

from confide_client.errors import (
    InvalidRequestError,
    SecondFactorInvalidError,
    SecondFactorRequiredError,
)
from confide_client.http import HttpApi
from confide_client.wire import build
from protocol.factors import PasskeyOptionsAnswer, SecondFactorRequest, SecondFactorRequiredAnswer
from protocol.http import MeBody, UserAnswer

__all__ = ["TRIES", "Passkey", "SecondFactor", "finish_sign_in"]

#: What :meth:`ConfideClient.sign_in` takes as ``second_factor``: the code, or a function
#: of the methods the account offers (``"totp"``, ``"recovery_code"``) that returns it.
SecondFactor = str | Callable[[list[str]], str | Awaitable[str]]

#: What :meth:`ConfideClient.sign_in` takes as ``passkey``: the assertion for the
#: request options given.
Passkey = Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]

TRIES = 3
_APP_CODE = re.compile(r"^[0-9]{6}$")


def proof(text: str) -> SecondFactorRequest:
    """The request for a code as typed: six digits (spaces allowed) are an app's code."""
    compact = text.replace(" ", "").strip()
    if _APP_CODE.match(compact):
        return build(lambda: SecondFactorRequest(totp=compact), "authenticator code")
    return build(lambda: SecondFactorRequest(recovery_code=compact), "recovery code")


async def _ask(second_factor: SecondFactor, methods: list[str]) -> str:
    if isinstance(second_factor, str):
        return second_factor
    answer = second_factor(methods)
    text = await answer if inspect.isawaitable(answer) else answer
    if not isinstance(text, str):
        raise InvalidRequestError("The second factor must be given as text")
    return text


async def finish_sign_in(
    http: HttpApi,
    required: SecondFactorRequiredAnswer,
    second_factor: SecondFactor | None,
    passkey: Passkey | None = None,
) -> MeBody:
    """Sends the second factor for a sign-in that answered ``second_factor_required``, and
    returns the signed-in account (with its key bundle)."""
    if passkey is not None and "webauthn" in required.methods:
        return await _send_passkey(http, passkey)
    methods: list[str] = [method for method in required.methods if method != "webauthn"]
    if methods == ["recovery_code"] and "webauthn" in required.methods and second_factor is None:
        raise SecondFactorRequiredError(
            "This account's second factor is a passkey: give passkey= (a function that "
            "answers its challenge), or one of the account's recovery codes."
        )
    if second_factor is None:
        raise SecondFactorRequiredError(
            "This account needs a second factor: give a code from its authenticator app or "
            "one of its recovery codes (second_factor=)."
        )
    tries = 1 if isinstance(second_factor, str) else TRIES
    for _ in range(tries - 1):
        try:
            return await _send(http, second_factor, methods)
        except SecondFactorInvalidError:
            continue
    return await _send(http, second_factor, methods)


async def _send(http: HttpApi, second_factor: SecondFactor, methods: list[str]) -> MeBody:
    request = proof(await _ask(second_factor, methods))
    answer = await http.post("/api/auth/signin/second-factor", request, UserAnswer)
    return answer.user


async def _send_passkey(http: HttpApi, passkey: Passkey) -> MeBody:
    options = await http.post("/api/auth/signin/passkey-options", None, PasskeyOptionsAnswer)
    answer = passkey(options.options)
    assertion = await answer if inspect.isawaitable(answer) else answer
    request = build(lambda: SecondFactorRequest(webauthn=assertion), "passkey answer")
    return (await http.post("/api/auth/signin/second-factor", request, UserAnswer)).user
