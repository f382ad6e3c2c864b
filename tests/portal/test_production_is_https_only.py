"""In production the portal is HTTPS only: HSTS for a year, plain http redirected (but for
/healthz), and Django's deployment check clean with the production defaults."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "CONFIDE_BEHIND_TLS_PROXY": "true",
}
# What production's defaults are (checked below), for the requests made in this process.
HTTPS_ONLY = {
    "SECURE_HSTS_SECONDS": 31_536_000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_SSL_REDIRECT": True,
}


def _production(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFIDE_", "REDIS_"))}
    env.update(PRODUCTION, CONFIDE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="portal.settings")
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deployment_check_is_clean_with_production_defaults(tmp_path: Path) -> None:
    result = _production(
        tmp_path, "-m", "portal.cli", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_defaults_are_https_only(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE)"
    )
    result = _production(tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "True"]


@pytest.mark.django_db
@override_settings(**HTTPS_ONLY)
def test_https_answers_carry_hsts() -> None:
    answer = Client().get("/api/csrf", secure=True)
    assert answer.status_code == 200
    assert answer["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
@override_settings(**HTTPS_ONLY)
def test_plain_http_is_redirected_to_https() -> None:
    # (/healthz is answered before Django: tests/integration/test_readiness_*.py)
    redirected = Client().get("/api/csrf")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/api/csrf"
    # An X-Forwarded-Proto reaching Django is no proof of https: only the proxy's, read
    # before Django (portal/asgi.py), is.
    assert Client().get("/api/csrf", headers={"X-Forwarded-Proto": "https"}).status_code == 301
