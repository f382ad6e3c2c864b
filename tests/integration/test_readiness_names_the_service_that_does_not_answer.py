"""/readyz says whether a process can serve (its database and Redis answer) and names the
one that does not, while /healthz, the liveness check, answers as long as the process runs."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from harness.servers import LiveServer, Stack

# Nothing listens on the discard port of 127.0.0.1 in these tests.
NOWHERE_POSTGRES = "postgres://postgres@127.0.0.1:9/nothing"
NOWHERE_REDIS = "redis://127.0.0.1:9/0"


def _get(server: LiveServer, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", timeout=10, trust_env=False)


def test_a_process_whose_services_answer_is_ready(server: LiveServer, stack: Stack) -> None:
    answer = _get(server, "/readyz")
    assert answer.status_code == 200, answer.text
    expected = {"ok": True, "database": "ok"}
    if stack.redis_url:
        expected["redis"] = "ok"
    assert answer.json() == expected
    assert answer.headers["Cache-Control"] == "no-store"


def test_probes_by_address_are_answered_over_http_in_production(
    stack: Stack, live_servers: Callable[..., list[LiveServer]]
) -> None:
    # A process with the production defaults: https only, one public name.
    settings = {"CONFIDE_SSL_REDIRECT": "true", "ALLOWED_HOSTS": "portal.example.org"}
    (server,) = live_servers(1, stack, settings)
    for path in ("/healthz", "/readyz", "/metrics"):
        assert _get(server, path).status_code == 200, path
    assert httpx.head(f"{server.url}/healthz", trust_env=False).content == b""
    # Everything else stays https only, for the allowed name.
    page = httpx.get(
        f"{server.url}/api/csrf", headers={"Host": "portal.example.org"}, trust_env=False
    )
    assert (page.status_code, page.headers["Location"]) == (
        301,
        "https://portal.example.org/api/csrf",
    )
    assert _get(server, "/api/csrf").status_code == 400  # 127.0.0.1 is not its name


def test_readiness_is_for_the_operators_addresses_only(
    stack: Stack, live_servers: Callable[..., list[LiveServer]]
) -> None:
    (server,) = live_servers(1, stack, {"CONFIDE_METRICS_ALLOW_IPS": "192.0.2.0/24"})
    assert _get(server, "/healthz").status_code == 200
    assert _get(server, "/readyz").status_code == 404


def test_a_process_without_its_database_is_alive_and_not_ready(
    production_stack: Stack, live_servers: Callable[..., list[LiveServer]]
) -> None:
    (server,) = live_servers(1, production_stack, {"DATABASE_URL": NOWHERE_POSTGRES})
    assert _get(server, "/healthz").status_code == 200
    answer = _get(server, "/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"ok": False, "database": "unavailable", "redis": "ok"}
    assert b"the database does not answer (OperationalError)" in server.log()


def test_a_process_without_redis_is_alive_and_not_ready(
    production_stack: Stack, live_servers: Callable[..., list[LiveServer]]
) -> None:
    (server,) = live_servers(1, production_stack, {"REDIS_URL": NOWHERE_REDIS})
    assert _get(server, "/healthz").status_code == 200
    answer = _get(server, "/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"ok": False, "database": "ok", "redis": "unavailable"}
