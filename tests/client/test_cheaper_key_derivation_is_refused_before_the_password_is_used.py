"""A server that serves an account's Argon2id parameters below the client's floor (its own
sign-up default: 3 passes, 64 MiB) gets no password: the client refuses before deriving,
so no authentication secret, cheap to guess the password from, is ever sent."""

from __future__ import annotations

import pytest

from confide_client import ConfideClient, ProtocolError, WeakParametersError
from crypto import DEFAULT_KDF_PARAMS, KdfParams
from tests.client.conftest import PASSWORD
from tests.client.stand_in_portal import StandInPortal, running

MIB = 1024 * 1024
SIGN_IN = ("POST", "/api/auth/signin")


@pytest.mark.parametrize(
    ("opslimit", "memlimit", "served"),
    [
        (2, 64 * MIB, "2 passes, 64 MiB"),
        (3, 32 * MIB, "3 passes, 32 MiB"),
        (10, 63 * MIB, "10 passes, 63 MiB"),
        (2, 32 * MIB, "2 passes, 32 MiB"),
    ],
)
async def test_parameters_below_the_floor_are_refused_and_nothing_is_sent(
    opslimit: int, memlimit: int, served: str
) -> None:
    portal = StandInPortal()
    clara = portal.add_person("client", "Clara", PASSWORD, kdf=KdfParams(opslimit, memlimit))
    async with running(portal), ConfideClient(portal.url) as client:
        with pytest.raises(WeakParametersError) as refused:
            await client.sign_in(clara.email, PASSWORD)
    assert refused.value.code == "weak_kdf_parameters"
    assert isinstance(refused.value, ProtocolError)
    assert f"({served})" in refused.value.message
    assert "at least 3 passes, 64 MiB" in refused.value.message
    assert ("POST", "/api/auth/params") in portal.requests
    assert SIGN_IN not in portal.requests
    assert client.account is None


@pytest.mark.parametrize(
    "params", [DEFAULT_KDF_PARAMS, KdfParams(4, 64 * MIB), KdfParams(3, 96 * MIB)]
)
async def test_parameters_at_or_above_the_floor_sign_in(params: KdfParams) -> None:
    portal = StandInPortal()
    clara = portal.add_person("client", "Clara", PASSWORD, kdf=params)
    async with running(portal), ConfideClient(portal.url) as client:
        account = await client.sign_in(clara.email, PASSWORD)
    assert account.email == clara.email
    assert portal.requests.count(SIGN_IN) == 1


async def test_a_lowered_floor_is_the_callers_choice() -> None:
    cheap = KdfParams(2, 32 * MIB)
    portal = StandInPortal()
    clara = portal.add_person("client", "Clara", PASSWORD, kdf=cheap)
    async with running(portal), ConfideClient(portal.url, kdf_floor=cheap) as client:
        account = await client.sign_in(clara.email, PASSWORD)
    assert account.email == clara.email
