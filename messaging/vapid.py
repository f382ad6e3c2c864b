"""The server's VAPID key (RFC 8292), which signs every request to a push service so that
a subscription made for this server cannot be used by anyone else.

Production reads it from ``CONFIDE_VAPID_PRIVATE_KEY`` (or ``_FILE``): several server
processes, and every host behind the proxy, must sign with the same key, since browsers
subscribed with its public half. The embedded default makes one on first use into
``CONFIDE_DATA_DIR/vapid_private_key`` (mode 0600) and keeps it, like its secret key:
a new key would silently orphan every subscription.

The private key never appears in a repr, a log line or an answer; only the public key
(the browser's ``applicationServerKey``) leaves this module.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["VapidKey", "generate_private_key", "server_key"]

log = logging.getLogger(__name__)

KEY_FILE = "vapid_private_key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url (what browsers and the VAPID drafts write)."""
    if not text or "=" in text or any(c not in _B64URL for c in text):
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class VapidKey:
    """The key pair: ``private_raw`` (base64url of the 32-byte scalar, what pywebpush's
    ``Vapid.from_raw`` reads) and ``public`` (base64url of the 65-byte uncompressed point,
    what ``PushManager.subscribe`` takes as ``applicationServerKey``)."""

    private_raw: str = field(repr=False)
    public: str

    def __repr__(self) -> str:
        return f"VapidKey(public={self.public!r})"

    @classmethod
    def from_private_raw(cls, text: str) -> VapidKey:
        """Raises ``ValueError`` naming what is wrong (never the key)."""
        try:
            raw = b64url_decode(text.strip())
        except (ValueError, binascii.Error):
            raise ValueError("the VAPID private key is not base64url") from None
        if len(raw) != 32:
            raise ValueError("the VAPID private key must be exactly 32 bytes long")
        scalar = int.from_bytes(raw, "big")
        try:
            private = ec.derive_private_key(scalar, ec.SECP256R1())
        except ValueError:
            raise ValueError("the VAPID private key is not a P-256 key") from None
        point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return cls(private_raw=b64url(raw), public=b64url(point))


def generate_private_key() -> str:
    """A new private key, base64url of its 32 bytes (``confide vapid_key`` prints one)."""
    while True:
        raw = secrets.token_bytes(32)
        try:
            return VapidKey.from_private_raw(b64url(raw)).private_raw
        except ValueError:
            continue  # zero or past the group order: astronomically rare


_lock = threading.Lock()
_cached: list[VapidKey | None] = []


def server_key() -> VapidKey | None:
    """This server's key, read (or, in the embedded default, made) once per process; None
    in production without ``CONFIDE_VAPID_PRIVATE_KEY``, where there is no Web Push."""
    with _lock:
        if not _cached:
            _cached.append(_load())
        return _cached[0]


def _load() -> VapidKey | None:
    configured: str = settings.CONFIDE_VAPID_PRIVATE_KEY
    if configured:
        try:
            return VapidKey.from_private_raw(configured)
        except ValueError as exc:
            raise ImproperlyConfigured(f"CONFIDE_VAPID_PRIVATE_KEY: {exc}") from None
    if settings.PRODUCTION:
        return None
    return _kept(Path(settings.DATA_DIR) / KEY_FILE)


def _kept(path: Path) -> VapidKey:
    """The embedded default's key in ``path``, made there (mode 0600) the first time; two
    processes starting at once agree on one (the file appears whole or not at all)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate_private_key() + "\n")
        try:
            os.link(temporary, path)  # fails if another process made it first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    try:
        return VapidKey.from_private_raw(path.read_text(encoding="ascii"))
    except ValueError as exc:
        raise ImproperlyConfigured(f"The VAPID key in {path}: {exc}; delete the file.") from None
