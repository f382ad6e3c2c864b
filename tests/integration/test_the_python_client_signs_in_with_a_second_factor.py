"""The Python client against a real server, for an account with a second factor (a
therapist made as an operator makes one, with an authenticator app and a passkey): a code
asked again after a wrong one signs in and the key bundle opens; so does the passkey,
again and again; no code, or a wrong one given as text, is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pyotp
import pytest

from accounts.models import Role
from confide_client import ConfideClient, SecondFactorInvalidError, SecondFactorRequiredError
from harness.servers import LiveServer, Stack
from tests.authenticator import next_code
from tests.personas import operator_made

OpenClient = Callable[..., Awaitable[ConfideClient]]


async def test_a_therapist_signs_in_with_the_code_of_their_app(
    stack: Stack, server: LiveServer, open_client: OpenClient
) -> None:
    # An account of its own: the failures below count against it.
    wren = operator_made(stack, "other_therapist", Role.THERAPIST, "Wren's Practice")
    assert wren.totp_secret is not None
    secret = wren.totp_secret
    stale = pyotp.TOTP(secret).at(0)

    asked: list[list[str]] = []

    def prompt(methods: list[str]) -> str:
        asked.append(methods)
        return stale if len(asked) == 1 else next_code(secret)

    client = await open_client(server.url)
    account = await client.sign_in(wren.email, wren.password, second_factor=prompt)

    assert asked == [["totp", "recovery_code"]] * 2
    assert account.id == wren.user_id
    assert client.identity.public == account.identity
    assert wren.passkey is not None
    for _ in range(3):
        by_passkey = await open_client(server.url)
        assert (await wren.sign_in(by_passkey)).id == wren.user_id

    # Each failure counts under the sign-in limits (five at a place): one wrong code so
    # far; a sign-in left waiting for its code and one with a wrong code add three.
    with pytest.raises(SecondFactorRequiredError) as missing:
        await (await open_client(server.url)).sign_in(wren.email, wren.password)
    assert missing.value.code == "second_factor_required"

    with pytest.raises(SecondFactorInvalidError) as wrong:
        await (await open_client(server.url)).sign_in(
            wren.email, wren.password, second_factor=stale
        )
    assert wrong.value.code == "second_factor_invalid"
