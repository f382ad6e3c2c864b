"""Fixtures of the integration tests: real server processes, real databases, real personas.

These tests never use pytest-django's test database: the servers are separate processes,
so the test talks to them only as a client would (HTTP and websocket on 127.0.0.1), and
reads their database only to prove what is (not) in it.

Which stack the ordinary tests run on follows the environment, as the server's settings do:
the production stack when DATABASE_URL and REDIS_URL are set (as in CI), the embedded
default otherwise. Tests that need PostgreSQL and Redis ask for ``production_stack``, which
skips outside CI and fails in CI when either is missing.

Tests that kill or stop PostgreSQL or Redis ask for ``fault_stack``: the production stack on
a PostgreSQL cluster and a Redis of their own (``private_services``), made once per session;
it skips outside CI and fails in CI when their programs are missing.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from confide_client import Backoff, ConfideClient
from harness.faults import TcpProxy
from harness.private_services import (
    PrivatePostgres,
    PrivateRedis,
    missing_programs,
)
from harness.servers import (
    LiveServer,
    Stack,
    drop_production_stack,
    make_embedded_stack,
    make_production_stack,
)
from portal.serving import SERVERS
from tests.conftest import require_programs, require_service
from tests.integration.terminal import Terminal
from tests.personas import (
    LivePersona,
    LivePersonas,
    demo_therapist,
    invite_client,
    make_live_personas,
)

# Quick reconnects keep the fault tests short; the bound is what the client guarantees.
FAST_BACKOFF = {"initial": 0.05, "maximum": 0.5}


def _production_configured() -> bool:
    return bool(os.environ.get("DATABASE_URL")) and bool(os.environ.get("REDIS_URL"))


@pytest.fixture(scope="session")
def _production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack | None]:
    """The production stack of this session, or None where PostgreSQL/Redis are not set."""
    if not _production_configured():
        yield None
        return
    admin_url = os.environ["DATABASE_URL"]
    stack = make_production_stack(
        tmp_path_factory.mktemp("production"), admin_url, os.environ["REDIS_URL"]
    )
    try:
        yield stack
    finally:
        drop_production_stack(stack, admin_url)


@pytest.fixture(scope="session")
def _embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Made on first use only (in CI, only the embedded canary asks for it)."""
    stack = make_embedded_stack(tmp_path_factory.mktemp("embedded"))
    try:
        yield stack
    finally:
        stack.stop_servers()


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest, _production: Stack | None) -> Stack:
    """The stack the environment names: production when configured, else embedded."""
    if _production is not None:
        return _production
    embedded: Stack = request.getfixturevalue("_embedded")
    return embedded


@pytest.fixture(scope="session")
def production_stack(_production: Stack | None) -> Stack:
    """PostgreSQL and Redis: skipped outside CI, a failure in CI, when not configured."""
    require_service("DATABASE_URL", "PostgreSQL (postgres://postgres@127.0.0.1:5432/confide_ci)")
    require_service("REDIS_URL", "Redis (redis://127.0.0.1:6379/0)")
    assert _production is not None
    return _production


@pytest.fixture(scope="session")
def embedded_stack(request: pytest.FixtureRequest, _production: Stack | None) -> Stack:
    """The embedded default, whatever the environment says."""
    embedded: Stack = request.getfixturevalue("_embedded")
    return embedded


@dataclass(frozen=True)
class FaultStack:
    """The production stack on a PostgreSQL and a Redis that the fault tests may break."""

    stack: Stack
    postgres: PrivatePostgres
    redis: PrivateRedis
    therapist: LivePersona

    def ensure_running(self) -> None:
        if not self.redis.running:
            self.redis.start()
        if not self.postgres.running:
            self.postgres.start()


@pytest.fixture(scope="session")
def _fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    require_programs(missing_programs())
    postgres = PrivatePostgres()
    redis = PrivateRedis(tmp_path_factory.mktemp("redis"))
    try:
        postgres.init()
        postgres.start()
        redis.start()
        stack = make_production_stack(
            tmp_path_factory.mktemp("faults"), postgres.admin_url, redis.url
        )
        try:
            yield FaultStack(stack, postgres, redis, demo_therapist(stack))
        finally:
            stack.stop_servers()
    finally:
        redis.kill()
        postgres.destroy()


# The servers `confide serve` runs (portal/serving.py); the fault tests run on each.
@pytest.fixture(params=SERVERS)
def fault_stack(request: pytest.FixtureRequest, _fault_stack: FaultStack) -> Iterator[FaultStack]:
    """The session's fault stack, with both services running before and after the test
    (a test that failed while one was down does not break the next). Each fault test runs
    twice: its servers are uvicorn, then Daphne (``CONFIDE_SERVER``, portal/serving.py)."""
    _fault_stack.ensure_running()
    _fault_stack.stack.server_env = {"CONFIDE_SERVER": request.param}
    try:
        yield _fault_stack
    finally:
        _fault_stack.stack.server_env = {}
        _fault_stack.ensure_running()


@pytest.fixture(scope="session")
def server(stack: Stack) -> LiveServer:
    """One server process on the session's stack, shared by the tests."""
    return stack.start_server()


@pytest.fixture(scope="session")
def personas(stack: Stack, server: LiveServer) -> LivePersonas:
    return asyncio.run(make_live_personas(stack, server.url))


@pytest.fixture
def live_servers() -> Iterator[Callable[..., list[LiveServer]]]:
    """Starts ``n`` more server processes on a stack; they are stopped after the test.

    Not named ``live_server``: pytest-django's autouse helper would then set up its test
    database for the test, which these tests must not touch.
    """
    started: list[LiveServer] = []

    def start(n: int, stack: Stack, extra_env: dict[str, str] | None = None) -> list[LiveServer]:
        servers = [stack.start_server(extra_env) for _ in range(n)]
        started.extend(servers)
        return servers

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def open_client() -> AsyncIterator[Callable[..., Awaitable[ConfideClient]]]:
    """Makes clients (signed in when given a persona) and closes them after the test."""
    made: list[ConfideClient] = []

    async def make(url: str, persona: LivePersona | None = None, **options: Any) -> ConfideClient:
        options.setdefault("backoff", Backoff(**FAST_BACKOFF))
        client = ConfideClient(url, **options)
        made.append(client)
        if persona is not None:
            await persona.sign_in(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def new_pair(
    server: LiveServer, personas: LivePersonas
) -> Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]:
    """A new client of the therapist, invited and accepted through the real flow, with
    their new conversation (so sequence numbers start at 1 in each test)."""

    async def make(url: str | None = None) -> tuple[LivePersona, uuid.UUID]:
        return await invite_client(url or server.url, personas.therapist)

    return make


@dataclass(frozen=True)
class ProxiedPair:
    """The therapist and a new client of theirs, both connected: the therapist directly,
    the client through a fault-injecting proxy (``network``)."""

    therapist: ConfideClient
    client: ConfideClient
    network: TcpProxy
    conversation: uuid.UUID
    client_persona: LivePersona


@pytest.fixture
async def proxied_pair(
    server: LiveServer,
    personas: LivePersonas,
    open_client: Callable[..., Awaitable[ConfideClient]],
    new_pair: Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]],
    proxy: Callable[..., Awaitable[TcpProxy]],
) -> Callable[..., Awaitable[ProxiedPair]]:
    """Makes a :class:`ProxiedPair`; ``client_options`` go to the client's ConfideClient."""

    async def make(**client_options: Any) -> ProxiedPair:
        client_persona, conversation = await new_pair()
        network = await proxy(server)
        therapist = await open_client(server.url, personas.therapist)
        client = await open_client(network.url, client_persona, **client_options)
        await therapist.connect()
        await client.connect()
        return ProxiedPair(therapist, client, network, conversation, client_persona)

    return make


@pytest.fixture
async def proxy() -> AsyncIterator[Callable[..., Awaitable[TcpProxy]]]:
    """A fault-injecting TCP proxy in front of a server (or several, for failover);
    closed after the test."""
    made: list[TcpProxy] = []

    async def make(
        target: LiveServer, *fallbacks: LiveServer, receive_buffer: int | None = None
    ) -> TcpProxy:
        fault = TcpProxy(target.port, *(f.port for f in fallbacks), receive_buffer=receive_buffer)
        await fault.start()
        made.append(fault)
        return fault

    yield make
    for fault in made:
        await fault.close()


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    """The chats a test opened in pseudo-terminals (terminal.py), closed after it."""
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()
