"""``confide vapid_key``: prints a new VAPID private key for ``CONFIDE_VAPID_PRIVATE_KEY``
(docs/operations.md, "Web Push"), and its public half to stderr. Nothing is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from messaging.vapid import VapidKey, generate_private_key


class Command(BaseCommand):
    help = "Prints a new VAPID private key (base64url) for CONFIDE_VAPID_PRIVATE_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        key = VapidKey.from_private_raw(generate_private_key())
        self.stdout.write(key.private_raw)
        self.stderr.write(f"public key: {key.public}")
