"""A request body over 64 KiB is refused with ``body_too_large`` before anything reads
it: at once when its Content-Length says so, and as soon as more than the limit has
arrived when it does not; a body within the limit reaches Django whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

from portal.bodies import BodyLimit

LIMIT = 64 * 1024


class Recording:
    """Stands for Django: records the body it read, answers 200."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def scope(length: int | None) -> dict[str, Any]:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "method": "POST", "path": "/api/auth/params", "headers": headers}


def talk_to(django: Recording, to: dict[str, Any]) -> Any:
    """A communicator with the limit in front of ``django`` (asgiref's testing helpers are
    untyped)."""
    return ApplicationCommunicator(BodyLimit(django), to)  # type: ignore[no-untyped-call]


async def answer(communicator: Any) -> tuple[int, dict[str, Any]]:
    start = await communicator.receive_output(timeout=2)
    body = await communicator.receive_output(timeout=2)
    return start["status"], json.loads(body["body"] or b"{}")


async def test_a_declared_gibibyte_is_refused_before_any_of_it_is_read() -> None:
    django = Recording()
    communicator = talk_to(django, scope(2**30))
    status, body = await answer(communicator)
    assert status == 413
    assert body["error"]["code"] == "body_too_large"
    assert django.bodies == []


async def test_an_undeclared_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    django = Recording()
    communicator = talk_to(django, scope(None))
    chunk = b" " * 10_000
    for _ in range(7):  # 70,000 bytes, and more to come that is never sent
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": True})
    status, body = await answer(communicator)
    assert status == 413
    assert body["error"]["code"] == "body_too_large"
    assert django.bodies == []


async def test_a_body_that_lies_about_its_length_is_refused_too() -> None:
    django = Recording()
    communicator = talk_to(django, scope(10))
    await communicator.send_input(
        {"type": "http.request", "body": b" " * (LIMIT + 1), "more_body": False}
    )
    status, _ = await answer(communicator)
    assert status == 413
    assert django.bodies == []


@pytest.mark.parametrize("size", [0, 1, LIMIT])
async def test_a_body_within_the_limit_reaches_django_whole(size: int) -> None:
    django = Recording()
    communicator = talk_to(django, scope(size))
    sent = b"x" * size
    half = size // 2
    await communicator.send_input({"type": "http.request", "body": sent[:half], "more_body": True})
    await communicator.send_input({"type": "http.request", "body": sent[half:], "more_body": False})
    status, _ = await answer(communicator)
    assert status == 200
    assert django.bodies == [sent]


PART = 1024 * 1024
PART_PATH = "/api/attachments/6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b/parts/3"


def part_scope(length: int | None, method: str = "PUT", path: str = PART_PATH) -> dict[str, Any]:
    headers = [(b"content-type", b"application/octet-stream")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "method": method, "path": path, "headers": headers}


async def test_a_part_of_an_attachment_may_be_a_whole_mebibyte() -> None:
    django = Recording()
    communicator = talk_to(django, part_scope(PART))
    sent = bytes(PART)
    await communicator.send_input({"type": "http.request", "body": sent, "more_body": False})
    status, _ = await answer(communicator)
    assert status == 200
    assert django.bodies == [sent]


@pytest.mark.parametrize("declared", [PART + 1, None])
async def test_a_part_over_a_mebibyte_is_refused(declared: int | None) -> None:
    django = Recording()
    communicator = talk_to(django, part_scope(declared))
    if declared is None:
        for _ in range(2):
            await communicator.send_input(
                {"type": "http.request", "body": bytes(PART // 2 + 1), "more_body": True}
            )
    status, body = await answer(communicator)
    assert status == 413
    assert body["error"]["message"] == f"The request body may be at most {PART} bytes."
    assert django.bodies == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", PART_PATH),
        ("PUT", "/api/me/pins"),
        ("PUT", PART_PATH + "/more"),
        ("PUT", "/api/attachments/not-an-id-of-thirty-six-characters!!/parts/3"),
    ],
)
async def test_no_other_route_or_method_takes_more_than_64_kib(method: str, path: str) -> None:
    django = Recording()
    communicator = talk_to(django, part_scope(LIMIT + 1, method, path))
    status, _ = await answer(communicator)
    assert status == 413
    assert django.bodies == []
