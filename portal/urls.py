"""HTTP routes. The websocket routes are in portal/asgi.py."""

from __future__ import annotations

from django.urls import include, path

from frontend.views import index, security_txt, service_worker, web_manifest

urlpatterns = [
    path("", index, name="index"),
    path("invite", index, name="invite"),
    path("recover", index, name="recover"),
    path("setup", index, name="setup"),
    path("service-worker.js", service_worker, name="service-worker"),
    path("manifest.webmanifest", web_manifest, name="web-manifest"),
    path(".well-known/security.txt", security_txt, name="security-txt"),
    path("api/", include("messaging.urls")),
]
