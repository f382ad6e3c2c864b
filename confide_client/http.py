"""The HTTP side of the protocol: JSON bodies, the session cookie and the CSRF header.

Django rotates the CSRF token at sign-in, so the header is read from the cookie jar before
every ``POST`` rather than remembered.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from portal.client.errors import ClientError, ConnectionLostError, ProtocolError, error_from_server

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "HttpApi"]

SESSION_COOKIE = "sessionid"
CSRF_COOKIE = "csrftoken"


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

    async def get(self, path: str) -> dict[str, Any]:
        return await self._request("GET", path, None)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.cookie(CSRF_COOKIE) is None:
            await self._request("GET", "/api/csrf", None)
        return await self._request("POST", path, {} if body is None else body)

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        content: bytes | None = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            token = self.cookie(CSRF_COOKIE)
            if token is not None:
                headers["X-CSRFToken"] = token
            content = json.dumps(body, separators=(",", ":")).encode("utf-8")
        try:
            response = await self._client.request(method, path, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise ConnectionLostError(
                f"{method} {path} failed: {type(exc).__name__}", path=path
            ) from None
        return _decode(response, method, path)


def _decode(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.is_success:
        if not isinstance(data, dict):
            raise ProtocolError(f"{method} {path} did not answer a JSON object")
        return data
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        raise error_from_server(
            error.get("code"), error.get("message"), error, status=response.status_code
        )
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
