"""How the operator's commands (``create_practice``, ``setup_link``) show a setup link."""

from __future__ import annotations

import os
from typing import TextIO
from urllib.parse import urlsplit

from django.core.management.base import CommandError, OutputWrapper
from django.utils import timezone

from accounts.setup import NewSetupLink


def public_url(given: str | None) -> str:
    """The portal's public address without a trailing slash: ``given``, else
    ``CONFIDE_PUBLIC_URL``, else the address ``confide serve`` listens on."""
    url = given or os.environ.get("CONFIDE_PUBLIC_URL")
    if not url:
        host = os.environ.get("CONFIDE_HOST", "127.0.0.1")
        port = os.environ.get("CONFIDE_PORT", "8000")
        url = f"http://{host}:{port}"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username:
        raise CommandError(f"{url!r} is not a portal address such as https://portal.example.org.")
    return url.rstrip("/")


def print_link(out: OutputWrapper | TextIO, base: str, new: NewSetupLink) -> None:
    link = new.link
    expires = timezone.localtime(link.expires_at).strftime("%Y-%m-%d %H:%M %Z")
    out.write(
        f"One-time setup link for {link.display_name} <{link.email}> ({link.role}), "
        f"valid until {expires}:\n"
    )
    out.write(f"  {base}{new.path}\n")
    out.write(
        "Send it to them privately. Anyone who opens it first can make this account; "
        "it works once.\n"
    )
