"""The portal itself as a Django app: for its system checks (portal/checks.py)."""

from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Confide portal"

    def ready(self) -> None:
        from portal import checks  # noqa: F401  (registers them)
