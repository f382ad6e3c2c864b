"""Websocket routes."""

from __future__ import annotations

from django.urls import path

from messaging.consumers import MessagingConsumer

websocket_urlpatterns = [
    path("ws", MessagingConsumer.as_asgi()),
]
