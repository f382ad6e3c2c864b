"""The baseline: the chat relay the Channels tutorial teaches, as a Django developer would
first write it (a room group per conversation, ``group_send`` to it, the Redis channel
layer; no persistence and no authentication).

    RELAY_REDIS_URL=redis://127.0.0.1:6379/0 daphne bench.baseline.relay:application

The load generator (bench/loadgen.py) drives it with the same traffic as the portal. The
only changes from the tutorial are two Redis connection settings without which it fails
under this load on redis-py 8: a 30 s socket timeout (the 5 s default ends idle blocking
receives) and a pool of 2000 connections (the default pool of 100 refuses the 101st
concurrent command with ``MaxConnectionsError`` instead of waiting).
"""

from __future__ import annotations

import json
import os
from typing import Any

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="baseline-relay-has-no-secrets-" + "x" * 40,  # noqa: S106 (nothing is signed)
    ALLOWED_HOSTS=["127.0.0.1"],
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": os.environ["RELAY_REDIS_URL"],
                        "socket_timeout": 30,
                        "max_connections": 2000,
                    }
                ],
                "prefix": "baseline-relay",
            },
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402


class ChatConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = json.loads(text_data or "{}")["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps({"message": event["message"]}))


application = ProtocolTypeRouter(
    {"websocket": URLRouter([re_path(r"ws/chat/(?P<room_name>\w+)/$", ChatConsumer.as_asgi())])}
)
