"""The portal serves its page with strict security headers."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_home_page_is_served_with_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert b"Confide" in response.content
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (d.strip() for d in csp.split(";"))
    )
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    # The Argon2id Worker, from this origin only (no blob: or data: workers).
    assert directives["worker-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_static_files_are_served_without_debug(client: Client) -> None:
    response = client.get("/static/frontend/portal.css")
    assert response.status_code == 200


async def test_health_check_answers_before_django() -> None:
    from channels.testing import HttpCommunicator

    from portal.asgi import application

    # Any Host: a probe by address needs no name of ALLOWED_HOSTS.
    answer = await HttpCommunicator(
        application, "GET", "/healthz", headers=[(b"host", b"10.0.0.9:8001")]
    ).get_response()
    assert (answer["status"], answer["body"]) == (200, b'{"ok": true}')


def test_the_password_derivation_worker_is_served_from_this_origin_under_the_policy(
    client: Client,
) -> None:
    """The Worker's own policy is the one its script is served with: the same strict one."""
    response = client.get("/static/frontend/src/crypto/kdf-worker.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "worker-src 'self'" in response.headers["Content-Security-Policy"]
