"""`confide serve` runs uvicorn where the environment says, trusting a proxy only when told."""

from __future__ import annotations

import os
from typing import Any

import pytest

import portal.cli
from portal import serving


def run_serve(monkeypatch: pytest.MonkeyPatch, workers: list[str] | None = None) -> dict[str, Any]:
    seen: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.append((app, options)))
    started = workers if workers is not None else []
    monkeypatch.setattr("portal.worker.start_worker", lambda: started.append("worker"))
    # The umask is the served process's (tests/portal/test_the_data_directory_is_private.py).
    monkeypatch.setattr("portal.cli.private_files", lambda: None)
    monkeypatch.setattr("portal.cli.announce_generation", lambda: None)
    portal.cli.main(["confide", "serve"])
    app, options = seen[0]
    assert app == "portal.asgi:application"
    return options


def test_serve_starts_the_job_worker_before_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    workers: list[str] = []

    run_serve(monkeypatch, workers)

    assert workers == ["worker"]


def test_serve_listens_on_127_0_0_1_port_8000_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONFIDE_HOST", "CONFIDE_PORT", "CONFIDE_BEHIND_TLS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    options = run_serve(monkeypatch)
    assert (options["host"], options["port"]) == ("127.0.0.1", 8000)


@pytest.mark.parametrize("behind_proxy", ["true", "false"])
def test_uvicorn_trusts_no_forwarded_header_itself(
    monkeypatch: pytest.MonkeyPatch, behind_proxy: str
) -> None:
    # The application reads them, after logging the real peer (portal/asgi.py;
    # tests/integration/test_forwarded_headers_are_believed_only_from_the_proxy.py).
    monkeypatch.setenv("CONFIDE_BEHIND_TLS_PROXY", behind_proxy)
    options = run_serve(monkeypatch)
    assert options["proxy_headers"] is False
    assert "forwarded_allow_ips" not in options


def test_compression_is_off_and_frames_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIDE_MAX_FRAME_BYTES", "65536")
    options = run_serve(monkeypatch)
    assert options["ws_per_message_deflate"] is False
    assert options["ws_max_size"] == 4 * 65536


def test_serve_refuses_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="no arguments"):
        portal.cli.main(["confide", "serve", "--port", "1"])


def test_no_worker_thread_when_it_is_turned_off(settings: Any) -> None:
    from portal.worker import start_worker

    settings.CONFIDE_WORKER = False

    assert start_worker() is None


def test_a_warning_only_when_smtp_sends_emails_without_a_public_address(
    settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from portal import worker

    monkeypatch.setattr(worker, "requeue_abandoned", lambda: 0)
    monkeypatch.setattr(worker, "ensure_ticking", lambda: None)
    monkeypatch.setattr(threading.Thread, "start", lambda self: None)
    settings.CONFIDE_WORKER = True
    settings.CONFIDE_PUBLIC_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

    worker.start_worker()
    assert "CONFIDE_PUBLIC_URL" not in caplog.text

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    worker.start_worker()
    assert "CONFIDE_PUBLIC_URL is not set" in caplog.text


def test_one_process_without_redis_and_one_per_core_with_it() -> None:
    assert serving.process_count(None, has_redis=False) == 1
    assert serving.process_count(None, has_redis=True) == max(1, os.cpu_count() or 1)
    assert serving.process_count(3, has_redis=True) == 3
    assert serving.process_count(1, has_redis=False) == 1


def test_several_processes_without_redis_are_refused_with_the_reason() -> None:
    # Each process would hear only its own sockets' events.
    with pytest.raises(SystemExit, match="REDIS_URL is not set"):
        serving.process_count(2, has_redis=False)


def test_serve_runs_the_processes_asked_for(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.CONFIDE_SERVER_PROCESSES = 3
    assert run_serve(monkeypatch)["workers"] == 3
    settings.CONFIDE_SERVER_PROCESSES = 1
    assert "workers" not in run_serve(monkeypatch)
