"""Request bodies are refused over ``MAX_BODY_BYTES`` before anything buffers them.

Django's ASGI handler reads a whole body, spooling it to a temporary file, before a view
can look at its size: an anonymous request declaring a gibibyte made the server write
32 MiB to disk before the view refused it. This application, in front of Django, answers
``body_too_large`` (413) at once for a ``Content-Length`` over the limit, and as soon as
more than the limit has arrived otherwise; a body within it is handed on whole.

One route takes more: a part of an attachment's stream (``PUT
/api/attachments/<id>/parts/<n>``), up to ``ATTACHMENT_PART_BYTES`` (1 MiB), and no other
route or method does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from protocol.errors import BodyTooLargeError
from protocol.http import ErrorBody
from protocol.limits import ATTACHMENT_PART_BYTES, MAX_BODY_BYTES

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# messaging/urls.py's route of a part (the view checks the id and the number further).
_PART = re.compile(r"/api/attachments/[0-9a-fA-F-]{36}/parts/[0-9]+\Z")


class BodyLimit:
    def __init__(
        self,
        application: ASGIApp,
        limit: int = MAX_BODY_BYTES,
        part_limit: int = ATTACHMENT_PART_BYTES,
    ) -> None:
        self.application = application
        self.limit = limit
        self.part_limit = part_limit

    def limit_of(self, scope: Scope) -> int:
        """The most this request's body may hold."""
        if scope.get("method") == "PUT" and _PART.match(scope.get("path", "")):
            return self.part_limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        limit = self.limit_of(scope)
        declared = _content_length(scope)
        if declared is not None and (declared < 0 or declared > limit):
            await self._refuse(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.application(scope, _replay([message], receive), send)
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.application(scope, _replay([whole], receive), send)

    async def _refuse(self, send: Send, limit: int) -> None:
        error = BodyTooLargeError(f"The request body may be at most {limit} bytes.")
        body = json.dumps(
            ErrorBody.of(error).model_dump(mode="json", exclude_none=True), separators=(",", ":")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.http_status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is not read: the connection cannot be reused.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first gives back what was already read."""
    waiting = list(messages)

    async def replay() -> Message:
        if waiting:
            return waiting.pop(0)
        return await receive()

    return replay
