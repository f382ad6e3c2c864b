"""ASGI entry point, outermost first:

1. ``RequestLog`` (portal/logs.py): a request id for every request and socket, and one log
   line each; it takes the proxy's request id only from a peer named in
   ``CONFIDE_FORWARDED_ALLOW_IPS``.
2. Behind the TLS proxy (``CONFIDE_BEHIND_TLS_PROXY``), uvicorn's ``ProxyHeadersMiddleware``:
   the client's address and the scheme from ``X-Forwarded-For`` and ``X-Forwarded-Proto``,
   believed only from those peers. Django reads both from the scope: no header of its own
   is trusted (there is no ``SECURE_PROXY_SSL_HEADER``), so nobody who reaches a process
   directly can claim https or an address.
3. ``OperatorEndpoints`` (portal/health.py): /healthz, /readyz, /metrics.
4. http goes to Django (its body refused over the limit before anything reads it,
   portal/bodies.py); a websocket passes the origin check (only the portal's own pages,
   portal/origins.py), then session authentication (the session, its user and whether
   staff must enrol a second factor, in one database trip: accounts/sockets.py), then
   reaches the messaging consumer.
"""

from __future__ import annotations

import gc
import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class RequestHandler(ASGIHandler):
    """Django's ASGI handler, each request's database connections closed as it ends.
    Django runs a request's synchronous code on a thread of the request's own
    (``ThreadSensitiveContext``), which no later request uses; with ``CONN_MAX_AGE`` its
    connection stayed open after the request, until the garbage collector freed it (it is
    in a reference cycle), so recent requests held a PostgreSQL connection each."""

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().handle(scope, receive, send)
        finally:
            # On the request's own thread: that thread's connections.
            await sync_to_async(connections.close_all)()


# Django must be set up before anything imports models (as ``get_asgi_application``).
django.setup(set_prefix=False)
django_asgi_app = RequestHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware  # noqa: E402

from accounts.sockets import SocketAuth  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402
from portal.asgi_types import ASGIApp  # noqa: E402
from portal.bodies import BodyLimit  # noqa: E402
from portal.health import OperatorEndpoints  # noqa: E402
from portal.logs import RequestLog  # noqa: E402
from portal.origins import OwnOriginValidator  # noqa: E402
from portal.postgresql.base import socket_hops  # noqa: E402

# A server process keeps every open socket's objects for as long as the socket lives, and
# each full garbage collection walks all of them: those run seldom (CONFIDE_GC_FULL_EVERY),
# the young generations' as often as Python's own.
gc.set_threshold(*gc.get_threshold()[:2], settings.CONFIDE_GC_FULL_EVERY)

sockets = OwnOriginValidator(SocketAuth(URLRouter(websocket_urlpatterns)))


async def websocket(scope: Any, receive: Any, send: Any) -> Any:
    """A socket, its database hops checking their connection at most once a second
    (portal/postgresql/base.py)."""
    with socket_hops():
        return await sockets(scope, receive, send)


served: ASGIApp = OperatorEndpoints(
    ProtocolTypeRouter({"http": BodyLimit(django_asgi_app), "websocket": websocket})
)

if settings.CONFIDE_BEHIND_TLS_PROXY:
    proxied = ProxyHeadersMiddleware(served, trusted_hosts=settings.CONFIDE_FORWARDED_ALLOW_IPS)  # type: ignore[arg-type]
    application = RequestLog(proxied, trusted_peer=proxied.trusted_hosts.__contains__)  # type: ignore[arg-type]
else:
    application = RequestLog(served, trusted_peer=None)
