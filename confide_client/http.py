"""The HTTP side of the protocol: JSON bodies, the session cookie and the CSRF header.

Every request body is a model of ``protocol.http`` and every answer is read with one, so an
answer off the protocol is a :class:`ProtocolError` here and nowhere else.

Django rotates the CSRF token at sign-in, so the header is read from the cookie jar before
every ``POST`` rather than remembered.
"""

from __future__ import annotations

from typing import TypeVar
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

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "HttpApi"]

SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"

A = TypeVar("A", bound=BaseModel)


class HttpApi:
    """JSON requests to one Confide server, keeping its cookies."""

    def __init__(self, base_url: str, *, timeout: float = 15.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("The server URL must look like http://host:port or https://host")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        # trust_env=False: the client talks to the server it was given, never through a
        # proxy named by the environment.
        self._client = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, follow_redirects=False, trust_env=False
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

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, body: str | None, answer: type[A]) -> A:
        headers = {"Accept": "application/json"}
        content: bytes | None = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            token = self.cookie(CSRF_COOKIE)
            if token is not None:
                headers["X-CSRFToken"] = token
            # As a browser does: over https the server takes a change only from its origin.
            headers["Origin"] = self.origin
            content = body.encode("utf-8")
        try:
            response = await self._client.request(method, path, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise ConnectionLostError(
                f"Could not reach {self.base_url} ({method} {path}: {type(exc).__name__})",
                path=path,
            ) from None
        return _decode(response, method, path, answer)


def _decode(response: httpx.Response, method: str, path: str, answer: type[A]) -> A:
    """The answer as ``answer``, or the error it reports as an exception."""
    if response.is_success:
        return read_json(answer, response.content, f"The answer to {method} {path}")
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
