"""The portal behind Debian's nginx, configured with the file the project ships
(deploy/nginx/confide.conf, templated only for ports, certificate paths and the log
folder: harness/proxy.py), in front of two server processes on PostgreSQL and Redis, with a
certificate authority and a certificate made by the test.

Through it: TLS 1.2 and 1.3 with the intended suites and HTTP/2, exactly one HSTS header on
every answer beside the portal's own security headers, plain http redirected, both
processes serving and either one alone serving everything, a message crossing between two
Python clients over wss, the client's address (and its request id, and https) believed
only from the proxy, request bodies capped at the proxy and at the portal, /metrics closed,
and ``check --deploy`` clean with the servers' settings.

The test's public name, portal.example.org, resolves to 127.0.0.1 in this process only
(``socket.getaddrinfo`` is patched); nginx listens on free ports, so the public origin has a
port, which the settings name (``CSRF_TRUSTED_ORIGINS``, ``CONFIDE_ORIGINS``): nginx passes
``Host`` without it. The test's own requests through nginx come from 127.0.0.3, those
straight to a process from 127.0.0.4, and nginx connects to the processes from 127.0.0.1,
the one address they trust (the Python clients connect from 127.0.0.1 too: they cannot be
given an address).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import certifi
import httpx
import pytest

from confide_client import ConfideClient
from harness.private_services import free_port
from harness.proxy import (
    PUBLIC_NAME,
    PrivateNginx,
    ProxyCertificates,
    make_certificates,
    missing_programs,
    site_for_test,
)
from harness.servers import LiveServer, Stack, drop_production_stack, make_production_stack
from protocol.limits import ATTACHMENT_PART_BYTES
from tests.conftest import require_programs, require_service
from tests.integration.helpers import messages_from
from tests.personas import demo_therapist, invite_client

HSTS = "max-age=31536000; includeSubDomains"
CLIENT_ADDRESS = "127.0.0.3"  # a browser, as nginx sees it
OUTSIDER_ADDRESS = "127.0.0.4"  # someone reaching a process without the proxy
PROXY_ADDRESS = "127.0.0.1"  # nginx, as the processes see it
FORGED = "203.0.113.9"
PROXY_BODY_CAP = 512 * 1024
PORTAL_BODY_CAP = 64 * 1024
# The processes nginx tried for a request, in its access log (deploy/nginx/confide.conf).
UPSTREAM = re.compile(r" upstream=(.*) request_id=")


@dataclass
class Portal:
    stack: Stack
    servers: list[LiveServer]
    nginx: PrivateNginx
    certificates: ProxyCertificates
    https_port: int
    http_port: int

    @property
    def url(self) -> str:
        return f"https://{PUBLIC_NAME}:{self.https_port}"

    def access_log(self) -> list[str]:
        path = self.nginx.prefix / "logs" / "confide.access.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def logged(self, fragment: str, timeout: float = 10.0) -> list[str]:
        """The access log's lines holding ``fragment``, once there is one: nginx writes a
        request's line as it finishes it, which may be just after the client's answer."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.access_log() if fragment in line]
            if lines or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def through_proxy(self) -> httpx.Client:
        """A browser's connection to nginx, from 127.0.0.3, trusting the test's authority."""
        transport = httpx.HTTPTransport(
            verify=self.certificates.client_context(), local_address=CLIENT_ADDRESS
        )
        return httpx.Client(
            base_url=self.url, transport=transport, trust_env=False, follow_redirects=False
        )


def _two_free_ports() -> tuple[int, int]:
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    require_programs(missing_programs())
    database_url = require_service(
        "DATABASE_URL", "PostgreSQL (postgres://postgres@127.0.0.1:5432/confide_ci)"
    )
    redis_url = require_service("REDIS_URL", "Redis (redis://127.0.0.1:6379/0)")
    root = tmp_path_factory.mktemp("nginx")
    certificates = make_certificates(root / "tls")
    https_port, http_port = _two_free_ports()
    upstream_ports = _two_free_ports()
    public_origin = f"https://{PUBLIC_NAME}:{https_port}"
    settings = {
        "CONFIDE_BEHIND_TLS_PROXY": "true",
        "CONFIDE_SECURE_COOKIES": "true",
        "CONFIDE_SSL_REDIRECT": "true",
        "ALLOWED_HOSTS": PUBLIC_NAME,
        "CSRF_TRUSTED_ORIGINS": f"https://{PUBLIC_NAME},{public_origin}",
        "CONFIDE_ORIGINS": public_origin,
        "CONFIDE_FORWARDED_ALLOW_IPS": PROXY_ADDRESS,
    }
    # The data folder is the portal's alone, as the deployment check asks.
    (root / "stack").mkdir(mode=0o700)
    stack = make_production_stack(root / "stack", database_url, redis_url, settings)
    try:
        servers = [stack.start_server({"CONFIDE_PORT": str(port)}) for port in upstream_ports]
        site = site_for_test(
            https_port=https_port,
            http_port=http_port,
            upstream_ports=upstream_ports,
            certificates=certificates,
            log_dir=root / "nginx" / "logs",
        )
        (root / "nginx" / "logs").mkdir(parents=True)
        nginx = PrivateNginx(root / "nginx", site, (https_port, http_port))
        nginx.start()
        try:
            yield Portal(stack, servers, nginx, certificates, https_port, http_port)
        finally:
            nginx.stop()
    finally:
        drop_production_stack(stack, database_url)


@pytest.fixture(autouse=True)
def public_name_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    """portal.example.org is 127.0.0.1, for this process's connections only."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (PUBLIC_NAME, PUBLIC_NAME.encode()):  # anyio passes it encoded
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _unique_path() -> str:
    """A path of this test's alone, which no view of the portal's serves: it appears in
    one log line of one process, and one of nginx's."""
    return f"/api/probe-{secrets.token_hex(6)}"


def _log_lines(server: LiveServer, event: str) -> list[dict[str, Any]]:
    """The JSON lines of one event in a process's log."""
    found = []
    for line in server.log().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == event:
            found.append(record)
    return found


def _request_line(portal: Portal, path: str) -> dict[str, Any]:
    """The one ``http_request`` line, of either process, for ``path``."""
    deadline = time.monotonic() + 5
    while True:
        found = [
            record
            for server in portal.servers
            for record in _log_lines(server, "http_request")
            if record.get("path") == path
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(found) == 1, f"{len(found)} http_request lines for {path}"
    return found[0]


def _one_hsts(response: httpx.Response) -> None:
    assert response.headers.get_list("strict-transport-security") == [HSTS]


def _from_nginx(response: httpx.Response) -> bool:
    """nginx's own error page (the portal answers errors in JSON)."""
    return response.headers.get("content-type") == "text/html" and b"<center>nginx</center>" in (
        response.content
    )


def test_tls_is_1_2_or_1_3_with_forward_secrecy_and_offers_http2(portal: Portal) -> None:
    def handshake(context: ssl.SSLContext) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", portal.https_port), timeout=5)
        return context.wrap_socket(raw, server_hostname=PUBLIC_NAME)

    modern = portal.certificates.client_context()
    modern.set_alpn_protocols(["h2", "http/1.1"])
    with handshake(modern) as tls:
        assert tls.version() == "TLSv1.3"
        assert tls.selected_alpn_protocol() == "h2"

    tls12 = portal.certificates.client_context()
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    with handshake(tls12) as tls:
        assert tls.version() == "TLSv1.2"
        negotiated = tls.cipher()
        assert negotiated is not None
        cipher = negotiated[0]
        assert cipher.startswith("ECDHE-ECDSA-") and ("GCM" in cipher or "CHACHA20" in cipher)

    # nginx's own default (HIGH:!aNULL:!MD5, kept by Debian's nginx.conf) takes CBC suites.
    cbc_only = portal.certificates.client_context()
    cbc_only.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc_only.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384")
    with pytest.raises(ssl.SSLError):
        handshake(cbc_only).close()


def test_answers_through_nginx_carry_one_hsts_header_and_the_portals_own(
    portal: Portal,
) -> None:
    with portal.through_proxy() as browser:
        page = browser.get("/")
        api = browser.get("/api/csrf")
        health = browser.get("/healthz")  # answered before Django: HSTS from nginx
    _one_hsts(health)
    for response in (page, api):
        assert response.status_code == 200
        _one_hsts(response)
        assert len(response.headers.get_list("content-security-policy")) == 1
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers.get_list("x-content-type-options") == ["nosniff"]
        assert response.headers.get_list("x-frame-options") == ["DENY"]
        assert response.headers.get_list("referrer-policy") == ["no-referrer"]
        # server_tokens off: no version, and the portal names no server of its own.
        assert response.headers.get_list("server") == ["nginx"]
        # Debian's nginx.conf would gzip the page; the site does not (BREACH).
        assert "content-encoding" not in response.headers
    # The session and CSRF cookies are for https only.
    for cookie in page.headers.get_list("set-cookie"):
        assert "; Secure" in cookie


def test_plain_http_is_redirected_to_https(portal: Portal) -> None:
    with httpx.Client(trust_env=False, follow_redirects=False) as browser:
        for path in ("/anything?x=1", "/healthz", "/ws"):
            response = browser.get(f"http://{PUBLIC_NAME}:{portal.http_port}{path}")
            assert response.status_code == 301
            assert response.headers["location"] == f"https://{PUBLIC_NAME}{path}"
            assert response.headers.get_list("server") == ["nginx"]


def test_both_processes_serve_and_either_alone_serves_everything(portal: Portal) -> None:
    ports = {f"127.0.0.1:{server.port}" for server in portal.servers}

    def upstreams_of(path: str) -> list[list[str]]:
        """Per request, the processes nginx tried, in order (the last one answered)."""
        return [
            found.group(1).split(", ")
            for line in portal.access_log()
            if f" {path} HTTP/" in line and (found := UPSTREAM.search(line))
        ]

    def all_logged(path: str, count: int) -> list[list[str]]:
        # nginx writes a request's line just after its answer.
        deadline = time.monotonic() + 5
        while len(found := upstreams_of(path)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return found

    shared = _unique_path()
    with portal.through_proxy() as browser:
        for _ in range(10):
            assert browser.get(shared).status_code == 404
    assert {tried[-1] for tried in all_logged(shared, 10)} == ports

    stopped = portal.servers[1]
    stopped.stop()
    try:
        alone = _unique_path()
        with portal.through_proxy() as browser:
            for _ in range(10):
                assert browser.get(alone).status_code == 404
        answered = [tried[-1] for tried in all_logged(alone, 10)]
        assert answered == [f"127.0.0.1:{portal.servers[0].port}"] * 10
    finally:
        portal.servers[1] = portal.stack.start_server({"CONFIDE_PORT": str(stopped.port)})


async def test_a_message_crosses_between_two_clients_through_nginx_over_wss(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Python client has no option for a certificate authority: its websocket honours
    # SSL_CERT_FILE (ssl.create_default_context), its HTTP side (httpx, trust_env=False)
    # reads certifi's bundle only.
    authority = str(portal.certificates.authority)
    monkeypatch.setenv("SSL_CERT_FILE", authority)
    monkeypatch.setattr(certifi, "where", lambda: authority)

    therapist = demo_therapist(portal.stack)
    client_persona, conversation = await invite_client(portal.url, therapist)
    # The therapist signs in with their authenticator app's code: the passkey is answered
    # for the same origin either way.
    therapist = replace(therapist, passkey=None)
    async with (
        ConfideClient(portal.url) as theo,
        ConfideClient(portal.url) as clara,
    ):
        await therapist.sign_in(theo)
        await client_persona.sign_in(clara)
        await theo.connect()
        await clara.connect()
        assert theo.account is not None and clara.account is not None
        await clara.send_text(conversation, "hello through nginx")
        (message,) = await messages_from(theo, clara.account.id, 1, timeout=10)
        assert message.text == "hello through nginx"
        await theo.send_text(conversation, "and back")
        (reply,) = await messages_from(clara, theo.account.id, 1, timeout=10)
        assert reply.text == "and back"
    # nginx writes a socket's line when it closes: both went through it (101, upgraded).
    deadline = time.monotonic() + 5
    while True:
        upgraded = [line for line in portal.access_log() if '"GET /ws HTTP/1.1" 101 ' in line]
        if len(upgraded) >= 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert len(upgraded) >= 2, upgraded


def _straight_to_a_process(portal: Portal, path: str, headers: dict[str, str]) -> httpx.Response:
    """A request that bypasses nginx, from an address the processes do not trust."""
    transport = httpx.HTTPTransport(local_address=OUTSIDER_ADDRESS)
    with httpx.Client(transport=transport, trust_env=False) as outsider:
        return outsider.get(
            f"http://127.0.0.1:{portal.servers[0].port}{path}",
            headers={"Host": PUBLIC_NAME, **headers},
        )


def test_the_processes_believe_the_address_nginx_saw_and_no_other(portal: Portal) -> None:
    through = _unique_path()
    with portal.through_proxy() as browser:
        response = browser.get(
            through, headers={"X-Forwarded-For": FORGED, "X-Request-ID": "forged-by-a-client"}
        )
    assert response.status_code == 404
    line = _request_line(portal, through)
    assert line["client"] == CLIENT_ADDRESS
    # nginx's request id, not the client's: in nginx's line, the process's and the answer.
    [logged] = portal.logged(f" {through} HTTP/")
    assert logged.endswith(f" request_id={line['request_id']}")
    assert response.headers.get_list("x-request-id") == [line["request_id"]]

    direct = _unique_path()
    _straight_to_a_process(portal, direct, {"X-Forwarded-For": FORGED})
    assert _request_line(portal, direct)["client"] == OUTSIDER_ADDRESS


def test_a_process_takes_https_only_from_the_proxys_word(portal: Portal) -> None:
    direct = _unique_path()
    response = _straight_to_a_process(portal, direct, {"X-Forwarded-Proto": "https"})
    # Plain http, whatever the header says: redirected to https.
    assert response.status_code == 301
    assert response.headers["location"] == f"https://{PUBLIC_NAME}{direct}"


def test_a_process_takes_a_request_id_only_from_the_proxy(portal: Portal) -> None:
    direct = _unique_path()
    _straight_to_a_process(portal, direct, {"X-Request-ID": "forged-by-an-outsider"})
    assert _request_line(portal, direct)["request_id"] != "forged-by-an-outsider"


def test_bodies_are_capped_at_nginx_and_at_the_portal(portal: Portal) -> None:
    too_large_for_nginx = _unique_path()
    too_large_for_the_portal = _unique_path()
    headers = {"Content-Type": "application/json"}
    with portal.through_proxy() as browser:
        refused_by_nginx = browser.post(
            too_large_for_nginx, content=b"x" * (PROXY_BODY_CAP + 1), headers=headers
        )
        refused_by_the_portal = browser.post(
            too_large_for_the_portal, content=b"x" * (PORTAL_BODY_CAP + 1), headers=headers
        )

    assert refused_by_nginx.status_code == 413
    assert _from_nginx(refused_by_nginx)
    _one_hsts(refused_by_nginx)
    [logged] = portal.logged(f" {too_large_for_nginx} HTTP/")
    assert "upstream=-" in logged, logged

    assert refused_by_the_portal.status_code == 413
    assert refused_by_the_portal.json()["error"]["code"] == "body_too_large"
    _one_hsts(refused_by_the_portal)
    assert _request_line(portal, too_large_for_the_portal)["status"] == 413
    # Nothing of the first reached a process.
    for server in portal.servers:
        assert too_large_for_nginx.encode() not in server.log()


def test_a_part_of_an_attachment_passes_nginx_up_to_a_mebibyte(portal: Portal) -> None:
    part = f"/api/attachments/{uuid.uuid4()}/parts/0"
    too_large = f"/api/attachments/{uuid.uuid4()}/parts/1"
    headers = {"Content-Type": "application/octet-stream"}
    with portal.through_proxy() as browser:
        passed = browser.put(part, content=bytes(ATTACHMENT_PART_BYTES), headers=headers)
        refused = browser.put(too_large, content=bytes(ATTACHMENT_PART_BYTES + 1), headers=headers)

    # The portal answered (no session, no CSRF token): nginx let the whole mebibyte through.
    assert passed.status_code == 403
    assert passed.json()["error"]["code"] == "csrf_failed"
    assert refused.status_code == 413
    assert _from_nginx(refused)
    [logged] = portal.logged(f" {too_large} HTTP/")
    assert "upstream=-" in logged, logged


def test_metrics_and_readiness_are_not_served_through_nginx(portal: Portal) -> None:
    with portal.through_proxy() as browser:
        for path in (
            "/metrics",
            "/metrics/",
            "/%6Detrics",
            "//metrics",
            "/metrics?format=x",
            "/readyz",
            "/%72eadyz",
        ):
            response = browser.get(httpx.URL(portal.url + path))
            assert response.request.url.raw_path == path.encode()
            assert response.status_code == 404, path
            assert _from_nginx(response), path
            _one_hsts(response)
    for line in portal.access_log():
        if "metrics" in line or "readyz" in line:
            assert "upstream=-" in line, line


def test_the_deployment_check_is_clean_with_the_servers_settings(portal: Portal) -> None:
    output = portal.stack.manage("-m", "portal.cli", "check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues" in output
