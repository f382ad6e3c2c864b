"""The client says where its connection is, as a value (``client.connection``) and as an
event for every change: ``connecting`` then ``connected``; ``reconnecting`` with the delay
before the next attempt after the connection is lost; ``offline`` when it gave up reaching
the server; ``stopped`` with the reason when the session ended or the client was closed."""

from __future__ import annotations

import socket

from confide_client import Backoff, ConfideClient
from confide_client.errors import ClientError
from confide_client.records import ConnectionState, ConnectionStatus
from tests.client.conftest import PASSWORD, Practice, SignIn
from tests.waiting import until


def _connection_events(client: ConfideClient) -> list[ConnectionStatus]:
    found = []
    while not client.events.empty():
        event = client.events.get_nowait()
        if isinstance(event, ConnectionStatus):
            found.append(event)
    return found


async def test_a_client_not_connected_yet_is_offline(practice: Practice, sign_in: SignIn) -> None:
    client = await sign_in(practice.client, connect=False)
    assert client.connection == ConnectionStatus(ConnectionState.OFFLINE, "not_connected")


async def test_connecting_then_connected(practice: Practice, sign_in: SignIn) -> None:
    client = await sign_in(practice.client)
    assert client.connection.state is ConnectionState.CONNECTED
    assert [e.state for e in _connection_events(client)] == [
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
    ]


async def test_a_lost_connection_is_reconnecting_with_its_delay_then_connected(
    practice: Practice, sign_in: SignIn
) -> None:
    client = await sign_in(practice.client)
    _connection_events(client)

    await practice.portal.drop_sockets()
    await until(lambda: client.connections == 2)

    reconnecting, connected = _connection_events(client)
    assert reconnecting.state is ConnectionState.RECONNECTING
    assert reconnecting.reason == "connection_lost"
    assert reconnecting.retry_in is not None and 0 < reconnecting.retry_in <= 0.05
    assert reconnecting.attempt == 1
    assert connected.state is ConnectionState.CONNECTED
    assert client.connection.state is ConnectionState.CONNECTED


async def test_an_ended_session_is_stopped_with_its_reason(
    practice: Practice, sign_in: SignIn
) -> None:
    client = await sign_in(practice.client)
    _connection_events(client)

    await practice.portal.drop_sockets(code=4001)
    await until(lambda: client.connection.state is ConnectionState.STOPPED)

    assert client.connection == ConnectionStatus(ConnectionState.STOPPED, "session_ended")
    assert _connection_events(client)[-1] == client.connection


async def test_closing_is_stopped_because_closed(practice: Practice, sign_in: SignIn) -> None:
    client = await sign_in(practice.client)
    await client.close()
    assert client.connection == ConnectionStatus(ConnectionState.STOPPED, "closed")


async def test_a_server_that_cannot_be_reached_leaves_the_client_offline(
    practice: Practice,
) -> None:
    client = ConfideClient(
        practice.url, backoff=Backoff(initial=0.01, maximum=0.02), max_reconnect_attempts=3
    )
    try:
        await client.sign_in(practice.client.email, PASSWORD)
        await client.conversations()
        # The server goes away (its address now answers nothing): every attempt fails.
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        client._http.base_url = f"http://127.0.0.1:{port}"
        try:
            await client.connect(timeout=5)
        except ClientError:
            pass
        await until(lambda: client.connection.state is ConnectionState.OFFLINE)
        states = [e.state for e in _connection_events(client)]
        assert states == [
            ConnectionState.CONNECTING,
            ConnectionState.RECONNECTING,
            ConnectionState.RECONNECTING,
            ConnectionState.OFFLINE,
        ]
        assert client.connection.reason == "connection_lost"
    finally:
        await client.close()
