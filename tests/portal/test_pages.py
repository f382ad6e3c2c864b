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
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_static_files_are_served_without_debug(client: Client) -> None:
    response = client.get("/static/frontend/portal.css")
    assert response.status_code == 200


def test_health_check_answers(client: Client) -> None:
    response = client.get("/healthz")
    assert response.json() == {"ok": True}
