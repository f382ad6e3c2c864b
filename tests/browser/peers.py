"""The other side of a browser test, played by the Python client (portal/client).

Playwright's synchronous API owns the main thread's event loop, so each piece of Python
client work runs to completion in a thread of its own with a loop of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from confide_client import ConfideClient
from tests import authenticator

T = TypeVar("T")
TIMEOUT = 120.0


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Runs ``work()`` on a new event loop in another thread and returns its result."""

    async def main() -> T:
        return await work()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=TIMEOUT)


def as_user(
    server_url: str, email: str, password: str, work: Callable[[ConfideClient], Awaitable[T]]
) -> T:
    """Signs in as a user, connects, runs ``work(client)``, and closes the client."""

    async def signed_in() -> T:
        client = ConfideClient(server_url, backfill=False)
        try:
            await client.sign_in(
                email,
                password,
                second_factor=authenticator.prompt(server_url, email),
                passkey=authenticator.passkey_at(server_url, email),
            )
            await client.connect()
            return await work(client)
        finally:
            await client.close()

    return run(signed_in)


def new_client(
    server_url: str,
    therapist_email: str,
    therapist_password: str,
    name: str,
    email: str,
    password: str,
) -> uuid.UUID:
    """The therapist invites a client, who signs up and accepts the agreement (Python);
    returns their conversation."""

    async def invite(therapist: ConfideClient) -> str:
        return (await therapist.create_invitation(name)).fragment

    token = as_user(server_url, therapist_email, therapist_password, invite)

    async def sign_up() -> uuid.UUID:
        client = ConfideClient(server_url, backfill=False)
        try:
            signed_up = await client.accept_invitation(token, email, name, password)
            await client.accept_agreement((await client.agreement()).version)
            return signed_up.conversation
        finally:
            await client.close()

    return run(sign_up)
