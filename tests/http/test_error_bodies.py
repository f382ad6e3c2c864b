"""Every HTTP failure is a JSON ``{"error": {"code", "message"}}`` with a documented code.

Clients act on ``code`` (docs/protocol.md, "Errors"), so an HTML error page, or a 500 for
input the schema should have refused, leaves the page with nothing to act on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError

import messaging.views
from tests.http.conftest import Browser, Reply, accept_body, invite, make_applicant
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def answering_browser() -> Browser:
    """A browser that receives the server's answer to an exception instead of re-raising it."""
    return Browser(raise_request_exception=False)


def assert_error(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply.content
    assert reply.headers["Content-Type"] == "application/json", reply.content[:200]
    error = reply.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]


def test_a_body_beyond_the_servers_upload_limit_is_too_large(world: Practice5) -> None:
    huge = b'{"email": "sam@practice.invalid", "auth_secret": "' + b"A" * (3 * 1024 * 1024) + b'"}'

    reply = answering_browser().post("/api/auth/signin", raw=huge)

    assert_error(reply, 413, "body_too_large")


def test_every_answer_of_the_api_is_kept_by_no_cache(world: Practice5) -> None:
    """``/api/me`` carries the wrapped key bundle; no answer of the API is cached."""
    me = answering_browser().sign_in_as(world.client).get("/api/me")
    refused = answering_browser().get("/api/me")
    not_a_method = answering_browser().get("/api/auth/signin")
    assert (me.status, refused.status, not_a_method.status) == (200, 401, 405)
    for reply in (me, refused, not_a_method):
        assert reply.headers["Cache-Control"] == "no-store"


def test_a_csrf_failure_answers_the_apis_json_error(world: Practice5) -> None:
    browser = answering_browser()
    browser.csrf_token()

    reply = browser.post_without_csrf("/api/auth/params", {"email": "sam@practice.invalid"})

    assert_error(reply, 403, "csrf_failed")
    assert reply.headers["Cache-Control"] == "no-store"


NulRequest = Callable[[Practice5], tuple[Browser, str, dict[str, Any]]]


def params_with_nul(world: Practice5) -> tuple[Browser, str, dict[str, Any]]:
    return answering_browser(), "/api/auth/params", {"email": "sam\x00@practice.invalid"}


def sign_in_with_nul(world: Practice5) -> tuple[Browser, str, dict[str, Any]]:
    body = {"email": "clara\x00@practice.invalid", "auth_secret": world.client.auth_secret}
    return answering_browser(), "/api/auth/signin", body


def invitation_with_nul(world: Practice5) -> tuple[Browser, str, dict[str, Any]]:
    browser = answering_browser().sign_in_as(world.therapist)
    return browser, "/api/invitations", {"client_name": "Ni\x00na"}


def accept_with_nul_in_the_name(world: Practice5) -> tuple[Browser, str, dict[str, Any]]:
    body = accept_body(invite(world.therapist), make_applicant(), display_name="Ni\x00na")
    return answering_browser(), "/api/invitations/accept", body


def accept_with_nul_in_the_email(world: Practice5) -> tuple[Browser, str, dict[str, Any]]:
    body = accept_body(invite(world.therapist), make_applicant("ni\x00na@client.invalid"))
    return answering_browser(), "/api/invitations/accept", body


NUL_REQUESTS: dict[str, NulRequest] = {
    "params email": params_with_nul,
    "sign-in email": sign_in_with_nul,
    "invitation client_name": invitation_with_nul,
    "accept display_name": accept_with_nul_in_the_name,
    "accept email": accept_with_nul_in_the_email,
}


@pytest.mark.parametrize("make_request", NUL_REQUESTS.values(), ids=NUL_REQUESTS.keys())
def test_text_with_a_nul_character_is_a_bad_request(
    world: Practice5, make_request: NulRequest
) -> None:
    browser, path, body = make_request(world)

    reply = browser.post(path, body)

    assert_error(reply, 400, "bad_request")


def test_an_unexpected_failure_answers_server_error(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("something nobody planned for")

    monkeypatch.setattr(messaging.views, "create_invitation", broken)
    browser = answering_browser().sign_in_as(world.therapist)

    reply = browser.post("/api/invitations", {"client_name": "Nina"})

    assert_error(reply, 500, "server_error")
    assert b"something nobody planned for" not in reply.content


def test_a_database_outage_answers_unavailable(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: object) -> None:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(messaging.views, "create_invitation", unreachable)
    browser = answering_browser().sign_in_as(world.therapist)

    reply = browser.post("/api/invitations", {"client_name": "Nina"})

    assert_error(reply, 503, "unavailable")
    assert b"could not connect" not in reply.content


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/me", 401, "unauthenticated"),
        ("/api/conversations", 401, "unauthenticated"),
    ],
)
def test_a_signed_out_request_answers_json(
    world: Practice5, path: str, status: int, code: str
) -> None:
    assert_error(answering_browser().get(path), status, code)
