"""The HTTP side of the protocol: JSON bodies, the session cookie and the CSRF header.

Every request body is a model of ``protocol.http`` and every answer is read with one, so an
answer off the protocol is a :class:`ProtocolError` here and nowhere else.

Django rotates the CSRF token at sign-in, so the header is read from the cookie jar before
every ``POST`` rather than remembered.

An attachment's parts go up as raw bytes (:meth:`HttpApi.put_bytes`) and its stream comes
down as it arrives (:meth:`HttpApi.download`), never read whole into memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ValidationError

from confide_client.errors import (
    ClientError,
    ConnectionLostError,
    ProtocolError,
    error_from_server,
    refusal,
)
from confide_client.wire import read_json
from protocol.common import encode, loads
from protocol.http import CsrfAnswer, ErrorBody

__all__ = ["BYTES_TYPE", "CSRF_COOKIE", "SESSION_COOKIE", "Download", "HttpApi"]

SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"
# The type of an attachment's parts and content (docs/protocol.md, "Attachments").
BYTES_TYPE = "application/octet-stream"
# Request bodies larger than this go as a stream (an attachment's parts).
_HELD_BODY = 64 * 1024

A = TypeVar("A", bound=BaseModel)


class HttpApi:
    """JSON requests to one Confide server, keeping its cookies."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("The server URL must look like http://host:port or https://host")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        # trust_env=False: the client talks to the server it was given, never through a
        # proxy named by the environment.
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )

    @property
    def origin(self) -> str:
        """The origin a browser on this server would send (``scheme://host:port``)."""
        return self.base_url

    @property
    def websocket_url(self) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, "/ws", "", ""))

    def cookie(self, name: str) -> str | None:
        """The value of one of this server's cookies, if set."""
        for cookie in self._client.cookies.jar:
            if cookie.name == name and cookie.value is not None:
                return cookie.value
        return None

    def forget_cookies(self) -> None:
        self._client.cookies.clear()

    async def get(self, path: str, answer: type[A]) -> A:
        """``GET path``, its answer read as ``answer``."""
        return await self._request("GET", path, None, answer)

    async def put(self, path: str, body: BaseModel, answer: type[A]) -> A:
        """``PUT path`` with ``body``, its answer read as ``answer``."""
        if self.cookie(CSRF_COOKIE) is None:
            await self._request("GET", "/api/csrf", None, CsrfAnswer)
        return await self._request("PUT", path, encode(body), answer)

    async def post(self, path: str, body: BaseModel | None, answer: type[A]) -> A:
        """``POST path`` with ``body`` (``{}`` when ``None``), its answer read as ``answer``."""
        if self.cookie(CSRF_COOKIE) is None:
            await self._request("GET", "/api/csrf", None, CsrfAnswer)
        return await self._request("POST", path, "{}" if body is None else encode(body), answer)

    async def put_bytes(self, path: str, data: bytes, answer: type[A]) -> A:
        """``PUT path`` with raw bytes (``application/octet-stream``: a part of an
        attachment's stream), its answer read as ``answer``."""
        if self.cookie(CSRF_COOKIE) is None:
            await self._request("GET", "/api/csrf", None, CsrfAnswer)
        return await self._request("PUT", path, data, answer, content_type=BYTES_TYPE)

    @contextlib.asynccontextmanager
    async def download(self, path: str, start: int = 0) -> AsyncIterator[Download]:
        """``GET path`` of raw bytes, read as they arrive; from byte ``start`` on
        (``Range: bytes=<start>-``) when it is not 0. An error answer raises as every
        other request's does; a connection lost before or while the bytes arrive raises
        :class:`ConnectionLostError`."""
        headers = {"Accept": f"{BYTES_TYPE}, application/json"}
        if start:
            headers["Range"] = f"bytes={start}-"
        try:
            async with self._client.stream("GET", path, headers=headers) as response:
                if not response.is_success:
                    await response.aread()
                    _refuse(response, "GET", path)
                yield Download(response)
        except httpx.TransportError as exc:
            raise _lost(self.base_url, "GET", path, exc) from None

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        body: str | bytes | None,
        answer: type[A],
        *,
        content_type: str = "application/json",
    ) -> A:
        headers = {"Accept": "application/json"}
        content: bytes | AsyncIterator[bytes] | None = None
        if body is not None:
            headers["Content-Type"] = content_type
            token = self.cookie(CSRF_COOKIE)
            if token is not None:
                headers["X-CSRFToken"] = token
            # As a browser does: over https the server takes a change only from its origin.
            headers["Origin"] = self.origin
            content = body.encode("utf-8") if isinstance(body, str) else body
            if isinstance(content, bytes) and len(content) > _HELD_BODY:
                # httpx keeps a request's bytes until its request and answer, which refer to
                # each other, are collected: a large body goes as a stream it lets go of.
                headers["Content-Length"] = str(len(content))
                content = _once(content)
        try:
            response = await self._client.request(method, path, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise _lost(self.base_url, method, path, exc) from None
        return _decode(response, method, path, answer)


class Download:
    """An answer of raw bytes as it arrives (:meth:`HttpApi.download`)."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def content_range(self) -> str | None:
        """The ``Content-Range`` header of a partial answer (206)."""
        value: str | None = self._response.headers.get("Content-Range")
        return value

    @property
    def content_type(self) -> str:
        value: str = self._response.headers.get("Content-Type", "")
        return value

    def pieces(self) -> AsyncIterator[bytes]:
        """The body's bytes, in the pieces they arrive in."""
        return self._response.aiter_bytes()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _lost(base_url: str, method: str, path: str, exc: Exception) -> ConnectionLostError:
    return ConnectionLostError(
        f"Could not reach {base_url} ({method} {path}: {type(exc).__name__})", path=path
    )


def _decode(response: httpx.Response, method: str, path: str, answer: type[A]) -> A:
    """The answer as ``answer``, or the error it reports as an exception."""
    if response.is_success:
        return read_json(answer, response.content, f"The answer to {method} {path}")
    _refuse(response, method, path)


def _refuse(response: httpx.Response, method: str, path: str) -> NoReturn:
    """Raises the error an answer that is not a success reports."""
    location = response.headers.get("Location", "")
    if response.is_redirect and location.startswith("https://"):
        asked = f"{response.url.scheme}://{response.url.netloc.decode('ascii')}"
        # The redirect's own port, but never another host than the one asked: whoever
        # answers plain http could name any.
        target = urlsplit(location)
        https = (
            urlunsplit(("https", target.netloc, "", "", ""))
            if target.hostname == response.url.host
            else f"https://{response.url.host}"
        )
        raise ClientError(
            f"This server works only over https: use {https} instead of {asked}.",
            code="https_required",
            status=response.status_code,
        )
    data = loads(response.content)
    if isinstance(data, dict) and "error" in data:
        try:
            detail = ErrorBody.model_validate_json(response.content).error
        except ValidationError:
            raise ProtocolError(
                f"The error answer to {method} {path} is off the protocol "
                f"(HTTP {response.status_code})"
            ) from None
        raise refusal(detail.code, detail.message, detail, response.status_code)
    if response.status_code == 403:
        # Django's own CSRF failure page is HTML, not the API's error body.
        raise error_from_server(
            "forbidden", f"{method} {path} was refused (HTTP 403)", {}, status=403
        )
    raise ClientError(
        f"{method} {path} answered HTTP {response.status_code}",
        code="http_error",
        status=response.status_code,
    )
