"""Every way an account's access ends closes its sockets on every server process, within
a bound that docs/protocol.md states, even when the client sends nothing: deactivation by
the command, deactivation in bulk, a new authentication secret, and sign-out, each done in
another process than the one holding the socket (through Redis); and an expired session,
which nothing announces (the process's own session check)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from confide_client import ConfideClient, SessionEndedError
from harness.servers import LiveServer, Stack
from tests.personas import LivePersona, LivePersonas, invite_client
from tests.waiting import until

pytestmark = pytest.mark.timeout(60)

OpenClient = Callable[..., Awaitable[ConfideClient]]
# Events travel at once; this is the test's patience, not the bound.
EVENT_WITHIN = 5.0
# The session check's interval on the server that has only that to go on.
RECHECK = 1.0

StartServers = Callable[..., list[LiveServer]]


@pytest.fixture
def holding(production_stack: Stack, live_servers: StartServers) -> LiveServer:
    """The process holding the socket. Its own session check is all but off, so only the
    event from the other process can close the socket in time."""
    (server,) = live_servers(1, production_stack, {"CONFIDE_SESSION_RECHECK_SECONDS": "3600"})
    return server


async def connected_client(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> tuple[ConfideClient, LivePersona]:
    persona, _ = await invite_client(server.url, personas.therapist)
    client = await open_client(server.url, persona)
    await client.connect()
    return client, persona


async def closed(client: ConfideClient, within: float) -> None:
    await until(lambda: client.ended is not None, within)
    assert isinstance(client.ended, SessionEndedError)


async def test_deactivation_by_the_command_closes_a_silent_socket_elsewhere(
    production_stack: Stack, holding: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    client, persona = await connected_client(holding, personas, open_client)
    production_stack.manage("deactivate_user", persona.email)
    await closed(client, EVENT_WITHIN)


async def test_deactivation_in_bulk_closes_a_silent_socket_elsewhere(
    production_stack: Stack, holding: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    client, persona = await connected_client(holding, personas, open_client)
    production_stack.manage(
        "shell",
        "-c",
        "from accounts.models import User; "
        f"User.objects.filter(email={persona.email!r}).update(is_active=False)",
    )
    await closed(client, EVENT_WITHIN)


async def test_a_new_authentication_secret_closes_a_silent_socket_elsewhere(
    production_stack: Stack, holding: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    client, persona = await connected_client(holding, personas, open_client)
    production_stack.manage(
        "shell",
        "-c",
        "from accounts.models import User; "
        f"user = User.objects.get(email={persona.email!r}); "
        "user.set_password('A' * 43); user.save()",
    )
    await closed(client, EVENT_WITHIN)


async def test_signing_out_on_another_process_closes_that_sessions_socket(
    production_stack: Stack,
    holding: LiveServer,
    live_servers: StartServers,
    personas: LivePersonas,
    open_client: OpenClient,
) -> None:
    client, _ = await connected_client(holding, personas, open_client)
    (other,) = live_servers(1, production_stack)
    session = client._http.cookie("sessionid")
    assert session is not None
    async with httpx.AsyncClient(base_url=other.url, trust_env=False) as browser:
        browser.cookies.set("sessionid", session)
        token = (await browser.get("/api/csrf")).json()["csrf_token"]
        answer = await browser.post(
            "/api/auth/signout", headers={"X-CSRFToken": token}, content=b"{}"
        )
        assert answer.status_code == 200
    await closed(client, EVENT_WITHIN)


async def test_an_expired_session_closes_its_silent_socket_at_the_next_check(
    production_stack: Stack,
    live_servers: StartServers,
    personas: LivePersonas,
    open_client: OpenClient,
) -> None:
    (server,) = live_servers(1, production_stack, {"CONFIDE_SESSION_RECHECK_SECONDS": str(RECHECK)})
    client, _ = await connected_client(server, personas, open_client)
    session = client._http.cookie("sessionid")
    production_stack.execute(
        "UPDATE django_session SET expire_date = ? WHERE session_key = ?",
        datetime.now(UTC) - timedelta(seconds=1),
        session,
    )
    await closed(client, RECHECK + EVENT_WITHIN)
