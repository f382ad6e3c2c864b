"""`confide serve` runs Daphne where the environment says, trusting a proxy only when told."""

from __future__ import annotations

import pytest

import portal.cli


def run_serve(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[list[str]] = []
    monkeypatch.setattr(
        "daphne.cli.CommandLineInterface.run", lambda self, args: seen.append(list(args))
    )
    portal.cli.main(["confide", "serve"])
    return seen[0]


def test_serve_listens_on_127_0_0_1_port_8000_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONFIDE_HOST", "CONFIDE_PORT", "CONFIDE_BEHIND_TLS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert run_serve(monkeypatch) == ["-b", "127.0.0.1", "-p", "8000", "portal.asgi:application"]


def test_behind_a_proxy_the_forwarded_client_address_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONFIDE_BEHIND_TLS_PROXY", "true")
    assert "--proxy-headers" in run_serve(monkeypatch)
