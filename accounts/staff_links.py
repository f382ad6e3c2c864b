"""How the operator's commands (``create_practice``, ``setup_link``) show a setup link."""

from __future__ import annotations

import ipaddress
import os
from typing import TextIO
from urllib.parse import urlsplit

from django.core.management.base import CommandError, OutputWrapper
from django.utils import timezone

from accounts.setup import NewSetupLink


def public_url(given: str | None) -> str:
    """The portal's public address without a trailing slash: ``given``, else
    ``CONFIDE_PUBLIC_URL``, else the address ``confide serve`` listens on on this machine.

    Plain http is taken for this machine only: a setup link is a bearer secret, and over
    http anyone on the way could serve a page that reads it from the address bar."""
    url = given or os.environ.get("CONFIDE_PUBLIC_URL")
    if not url:
        host = os.environ.get("CONFIDE_HOST", "127.0.0.1")
        if _unspecified(host):  # listening on every interface: link to this machine
            host = "127.0.0.1"
        port = os.environ.get("CONFIDE_PORT", "8000")
        url = f"http://{host}:{port}"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username:
        raise CommandError(f"{url!r} is not a portal address such as https://portal.example.org.")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise CommandError(
            f"{url!r} is plain http: a setup link must travel over https "
            "(--url https://portal.example.org, or set CONFIDE_PUBLIC_URL)."
        )
    return url.rstrip("/")


def _unspecified(host: str) -> bool:
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
