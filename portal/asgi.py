"""ASGI entry point: http goes to Django (its body refused over the limit before anything
reads it, portal/bodies.py); a websocket passes the origin check (only the
portal's own pages, portal/origins.py), then session authentication, then reaches the
messaging consumer."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from messaging.routing import websocket_urlpatterns  # noqa: E402
from portal.bodies import BodyLimit  # noqa: E402
from portal.origins import OwnOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_asgi_app),
        "websocket": OwnOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
