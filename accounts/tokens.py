"""The one-time tokens of links (client invitations, staff setup links): random, shown once,
kept only as their SHA-256 so that a copy of the database opens nothing."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


__all__ = ["hash_token", "new_token"]
