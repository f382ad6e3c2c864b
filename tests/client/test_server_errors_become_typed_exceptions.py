"""Every error the server reports reaches the caller as a ClientError subclass carrying the
server's code and data, from an HTTP body as from a websocket error frame."""

from __future__ import annotations

import json

import httpx
import pytest

from confide_client.errors import (
    ClientError,
    ForbiddenError,
    InvitationInvalidError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerRefusedError,
    StaleEpochError,
    UnauthenticatedError,
    error_from_server,
)
from confide_client.http import _decode
from protocol.http import OkAnswer
from protocol.to_server import HistoryFrame
from tests.client.conftest import NewRealtime
from tests.client.stand_in import CONVERSATION, StandIn


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("not_found", NotFoundError),
        ("unauthenticated", UnauthenticatedError),
        ("forbidden", ForbiddenError),
        ("invitation_invalid", InvitationInvalidError),
        ("stale_epoch", StaleEpochError),
        ("rate_limited", RateLimitedError),
        ("email_taken", ServerRefusedError),
        ("a_code_from_the_future", ServerRefusedError),
    ],
)
def test_each_code_maps_to_its_exception(code: str, kind: type[ServerRefusedError]) -> None:
    error = error_from_server(code, "said the server", {"ref": "r1", "extra": 3})
    assert type(error) is kind
    assert error.code == code
    assert error.data == {"extra": 3}


def test_a_frame_without_a_code_is_a_server_error() -> None:
    error = error_from_server(None, None, {})
    assert error.code == "server_error"
    assert isinstance(error, ClientError)


def test_rate_limits_say_how_long_to_wait() -> None:
    by_frame = error_from_server("rate_limited", "", {"retry_after_ms": 250})
    by_sign_in = error_from_server("rate_limited", "", {"retry_after_s": 900})
    assert isinstance(by_frame, RateLimitedError) and isinstance(by_sign_in, RateLimitedError)
    assert (by_frame.retry_after, by_sign_in.retry_after) == (0.25, 900.0)


def test_an_http_error_body_keeps_its_status_and_data() -> None:
    body = {"error": {"code": "stale_epoch", "message": "use 2", "current_epoch": 2}}
    with pytest.raises(StaleEpochError) as caught:
        _decode(httpx.Response(409, json=body), "POST", "/api/x", OkAnswer)
    assert caught.value.status == 409
    assert caught.value.data == {"current_epoch": 2}


def test_an_html_403_is_reported_as_forbidden() -> None:
    with pytest.raises(ForbiddenError):
        _decode(
            httpx.Response(403, text="<h1>CSRF verification failed</h1>"), "POST", "/x", OkAnswer
        )


def test_a_success_that_is_not_a_json_object_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        _decode(httpx.Response(200, json=[1, 2]), "GET", "/api/x", OkAnswer)


def test_an_error_repr_shows_code_and_message_only() -> None:
    error = error_from_server("not_found", "No such conversation.", {"secretish": "x" * 40})
    assert repr(error) == "NotFoundError(code='not_found', message='No such conversation.')"


def test_an_http_answer_off_the_protocol_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        _decode(httpx.Response(200, json={"ok": True, "extra": 1}), "POST", "/api/x", OkAnswer)
    with pytest.raises(ProtocolError):
        body = {"error": {"code": "not_found"}}
        _decode(httpx.Response(404, json=body), "GET", "/api/x", OkAnswer)


def test_an_http_error_with_a_code_from_a_newer_server_is_a_plain_refusal() -> None:
    body = {"error": {"code": "a_code_from_the_future", "message": "new", "retry_after_s": 3}}
    with pytest.raises(ServerRefusedError) as caught:
        _decode(httpx.Response(422, json=body), "POST", "/api/x", OkAnswer)
    assert type(caught.value) is ServerRefusedError
    assert (caught.value.code, caught.value.status) == ("a_code_from_the_future", 422)
    assert caught.value.data == {"retry_after_s": 3}


async def test_an_error_frame_with_a_code_from_a_newer_server_is_a_plain_refusal(
    stand_in: tuple[StandIn, str], new_realtime: NewRealtime
) -> None:
    server, url = stand_in
    error = {"type": "error", "code": "a_code_from_the_future", "message": "new"}
    server.history = lambda frame: [json.dumps({**error, "ref": frame.ref})]
    realtime = new_realtime(url)
    realtime.start()
    await realtime.wait_connected(5)
    with pytest.raises(ServerRefusedError) as caught:
        await realtime.call(HistoryFrame(conversation=CONVERSATION), 5)
    assert type(caught.value) is ServerRefusedError
    assert caught.value.code == "a_code_from_the_future"
