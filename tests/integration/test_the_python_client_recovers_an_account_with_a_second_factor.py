"""The Python client's ``recover_password`` against a real server, for a client who set up
an authenticator app: the recovery key alone is not enough (``second_factor_required``,
and the old password still signs in); with the app's code the new password is stored, the
keys open, and only the new password gets as far as the second factor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from confide_client import ConfideClient, SecondFactorRequiredError, UnauthenticatedError
from harness.servers import LiveServer
from protocol.factors import TotpBeginAnswer, TotpConfirmAnswer, TotpConfirmRequest
from tests.authenticator import next_code
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(120)

OLD_PASSWORD = "the password she forgot"
NEW_PASSWORD = "a brand new passphrase"


async def test_the_recovery_key_and_the_app_code_together_set_a_new_password(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    invitation = await therapist.create_invitation("Ada")
    laptop = await open_client(server.url, backfill=False)
    email = f"ada-two-factor-{invitation.id}@client.invalid"
    signed_up = await laptop.accept_invitation(invitation.fragment, email, "Ada", OLD_PASSWORD)
    # Ada sets up an authenticator app, as the web portal's settings do.
    http = laptop._http
    begun = await http.post("/api/2fa/totp/begin", None, TotpBeginAnswer)
    await http.post(
        "/api/2fa/totp/confirm", TotpConfirmRequest(code=next_code(begun.secret)), TotpConfirmAnswer
    )

    without = await open_client(server.url, backfill=False)
    with pytest.raises(SecondFactorRequiredError):
        await without.recover_password(email, signed_up.recovery_key, NEW_PASSWORD)
    # The old password is still the account's: it gets as far as the second factor.
    with pytest.raises(SecondFactorRequiredError):
        await (await open_client(server.url, backfill=False)).sign_in(email, OLD_PASSWORD)

    phone = await open_client(server.url, backfill=False)
    asked: list[list[str]] = []

    def code(methods: list[str]) -> str:
        asked.append(methods)
        return next_code(begun.secret)

    account = await phone.recover_password(
        email, signed_up.recovery_key, NEW_PASSWORD, second_factor=code
    )

    assert asked == [["totp", "recovery_code"]]
    assert account.identity == signed_up.account.identity
    assert phone.identity.public == signed_up.account.identity
    with pytest.raises(UnauthenticatedError):
        await (await open_client(server.url, backfill=False)).sign_in(email, OLD_PASSWORD)
    with pytest.raises(SecondFactorRequiredError):
        await (await open_client(server.url, backfill=False)).sign_in(email, NEW_PASSWORD)
