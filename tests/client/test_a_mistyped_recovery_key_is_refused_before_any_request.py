"""``recover_password`` reads the recovery key before anything else: a typo (a changed
character, a missing group, a stray character) is an ``InvalidRequestError`` with the code
``recovery_key_mistyped``, raised without a request. The client here points at a port
nothing listens on, so any request would fail as ``ConnectionLostError`` instead."""

from __future__ import annotations

import socket

import pytest

from confide_client import ConfideClient, ConnectionLostError, InvalidRequestError
from crypto import RecoveryKey


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def mistyped(display: str) -> str:
    return display[:10] + ("B" if display[10] != "B" else "C") + display[11:]


DISPLAY = RecoveryKey.generate().display()
TYPOS = {
    "one character changed": mistyped(DISPLAY),
    "the last group missing": DISPLAY.rsplit("-", 1)[0],
    "a digit that is not in the alphabet": "1" + DISPLAY[1:],
    "nothing": "",
}


@pytest.mark.parametrize("typed", TYPOS.values(), ids=TYPOS.keys())
async def test_a_mistyped_key_is_refused_without_a_request(typed: str) -> None:
    async with ConfideClient(f"http://127.0.0.1:{closed_port()}") as client:
        with pytest.raises(InvalidRequestError) as refused:
            await client.recover_password("clara@practice.invalid", typed, "a new password")

    assert refused.value.code == "recovery_key_mistyped"
    assert client.account is None


async def test_a_well_formed_key_goes_on_to_ask_the_server() -> None:
    """The same call with the key as written down does reach for the server (and here
    finds none), so the refusals above are the key's."""
    async with ConfideClient(f"http://127.0.0.1:{closed_port()}") as client:
        with pytest.raises(ConnectionLostError):
            await client.recover_password(
                "clara@practice.invalid", DISPLAY.lower(), "a new password"
            )
