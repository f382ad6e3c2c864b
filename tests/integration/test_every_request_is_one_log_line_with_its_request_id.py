"""Logs are one JSON object per line, for a log tool: each HTTP request and each websocket
is a line carrying a request id (the one in the answer's X-Request-ID, or the proxy's own
when the proxy is trusted), its path without the query string, and nothing the request
carried (no cookie, no body, no header)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.personas import LivePersonas
from tests.waiting import until

OpenClient = Callable[..., Awaitable[ConfideClient]]


def lines(server: LiveServer) -> list[dict[str, Any]]:
    """Every line of the server's log, each a JSON object (else the test fails)."""
    parsed = []
    for raw in server.log().decode().splitlines():
        line = json.loads(raw)
        assert isinstance(line, dict), raw
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys(), raw
        parsed.append(line)
    return parsed


def events(server: LiveServer, kind: str) -> list[dict[str, Any]]:
    return [line for line in lines(server) if line.get("event") == kind]


async def test_requests_and_sockets_are_logged_once_each_with_their_request_id(
    stack: Stack,
    personas: LivePersonas,
    live_servers: Callable[..., list[LiveServer]],
    open_client: OpenClient,
) -> None:
    (server,) = live_servers(1, stack, {"CONFIDE_LOG_FORMAT": "json"})
    answer = httpx.get(
        f"{server.url}/api/me?token=secret-in-a-query",
        headers={"X-Request-ID": "made-up-by-the-client-0001", "Cookie": "sessionid=a-cookie"},
        trust_env=False,
    )
    assert answer.status_code == 401
    rid = answer.headers["X-Request-ID"]
    assert rid != "made-up-by-the-client-0001"  # no proxy is trusted here

    client = await open_client(server.url, personas.therapist)
    await client.connect()
    await client.close()
    await until(lambda: events(server, "ws_closed"), 5)
    await until(
        lambda: any(line["request_id"] == rid for line in events(server, "http_request")), 5
    )

    (me,) = [line for line in events(server, "http_request") if line["request_id"] == rid]
    assert (me["method"], me["path"], me["status"], me["client"]) == (
        "GET",
        "/api/me",
        401,
        "127.0.0.1",
    )
    # Django's own warning of the 401 carries the same id.
    assert any(
        line["logger"] == "django.request" and line["request_id"] == rid for line in lines(server)
    )
    (opened,) = events(server, "ws_open")
    (closed,) = events(server, "ws_closed")
    assert opened["request_id"] == closed["request_id"] != "-"
    assert closed["path"] == "/ws" and closed["duration_ms"] > 0
    # A path that decodes to a line break writes no line of its own.
    forged = httpx.get(f"{server.url}/api/x%0A%7B%22event%22%3A%22forged%22%7D", trust_env=False)
    await until(lambda: any("forged" in line["path"] for line in events(server, "http_request")), 5)
    assert not any(line.get("event") == "forged" for line in lines(server))
    assert forged.status_code == 404
    text = server.log().decode()
    assert "connection open" not in text  # uvicorn's own line per socket, without an id
    for secret in ("secret-in-a-query", "a-cookie", personas.therapist.password, "sessionid"):
        assert secret not in text


async def test_the_proxys_address_and_request_id_are_believed_only_from_the_proxy(
    stack: Stack, live_servers: Callable[..., list[LiveServer]]
) -> None:
    # 127.0.0.2 is the proxy; the test's other requests come straight from 127.0.0.1.
    (server,) = live_servers(
        1,
        stack,
        {
            "CONFIDE_LOG_FORMAT": "json",
            "CONFIDE_BEHIND_TLS_PROXY": "true",
            "CONFIDE_FORWARDED_ALLOW_IPS": "127.0.0.2",
            "CONFIDE_SSL_REDIRECT": "true",
            "CONFIDE_HSTS_SECONDS": "31536000",
        },
    )
    given = "0123456789abcdef0123456789abcdef"  # nginx's $request_id
    forwarded = {
        "X-Request-ID": given,
        "X-Forwarded-For": "198.51.100.7",
        "X-Forwarded-Proto": "https",
    }
    proxy = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), trust_env=False)
    with proxy:
        through = proxy.get(f"{server.url}/api/csrf", headers=forwarded)
    assert through.status_code == 200  # https, on the proxy's word
    assert through.headers["X-Request-ID"] == given
    assert through.headers["Strict-Transport-Security"].startswith("max-age=")

    direct = httpx.get(f"{server.url}/api/csrf", headers=forwarded, trust_env=False)
    assert direct.status_code == 301  # plain http, whatever the headers claim
    assert direct.headers["X-Request-ID"] != given

    def logged(rid: str) -> list[dict[str, Any]]:
        return [line for line in events(server, "http_request") if line["request_id"] == rid]

    await until(lambda: logged(given) and logged(direct.headers["X-Request-ID"]), 5)
    assert logged(given)[0]["client"] == "198.51.100.7"
    assert logged(direct.headers["X-Request-ID"])[0]["client"] == "127.0.0.1"

    # Even from the proxy, an id that would write into the log is replaced.
    with httpx.Client(
        transport=httpx.HTTPTransport(local_address="127.0.0.2"), trust_env=False
    ) as again:
        forged = again.get(f"{server.url}/healthz", headers={"X-Request-ID": 'x" injected'})
    assert forged.headers["X-Request-ID"] != 'x" injected'
