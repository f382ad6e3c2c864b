"""Which pages may open a websocket: only the portal's own.

Channels' ``AllowedHostsOriginValidator`` compares host names only, so a page on another
port or scheme of an allowed host (``http://127.0.0.1:9``, ``ftp://127.0.0.1``) could open
a socket, and SameSite cookies are sent across the ports of one host. Here the ``Origin``
must be exactly the origin the socket was opened at: the scheme (``https`` for ``wss``,
which uvicorn sets from ``X-Forwarded-Proto`` only behind the trusted proxy), the
``Host`` header, which must itself be one of ``ALLOWED_HOSTS``, and the port, as Django's
CSRF check compares them for HTTPS. A deployment whose proxy rewrites ``Host`` names the
public origins in ``CONFIDE_ORIGINS``.
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

ASGIApp = Any


def own_origin(scope: dict[str, Any]) -> str | None:
    """``scheme://host[:port]`` of the socket, from its ``Host`` header, or None when the
    header is missing or names a host that is not allowed."""
    host = _header(scope, b"host")
    if not host:
        return None
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return f"{scheme}://{host.lower()}"


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    if not origin:
        return False
    origin = origin.lower()
    return origin == own_origin(scope) or origin in settings.CONFIDE_ORIGINS


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                text: str = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return text.strip()
    return None


class OwnOriginValidator:
    """Refuses, at the handshake (HTTP 403), a websocket opened by any page but the
    portal's own."""

    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("OwnOriginValidator guards websockets only")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
