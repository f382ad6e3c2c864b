"""Every error the server reports reaches the caller as a ClientError subclass carrying the
server's code and data, from an HTTP body as from a websocket error frame."""

from __future__ import annotations

import httpx
import pytest

from portal.client.errors import (
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
from portal.client.http import _decode


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
        _decode(httpx.Response(409, json=body), "POST", "/api/x")
    assert caught.value.status == 409
    assert caught.value.data == {"current_epoch": 2}


def test_an_html_403_is_reported_as_forbidden() -> None:
    with pytest.raises(ForbiddenError):
        _decode(httpx.Response(403, text="<h1>CSRF verification failed</h1>"), "POST", "/x")


def test_a_success_that_is_not_a_json_object_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        _decode(httpx.Response(200, json=[1, 2]), "GET", "/api/x")


def test_an_error_repr_shows_code_and_message_only() -> None:
    error = error_from_server("not_found", "No such conversation.", {"secretish": "x" * 40})
    assert repr(error) == "NotFoundError(code='not_found', message='No such conversation.')"
