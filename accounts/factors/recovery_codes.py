"""Recovery codes: ten single-use codes in place of a lost authenticator app or passkey.

A code is 16 characters of Crockford's base32 (80 random bits), shown as four groups of
four ("k7qm-2xwd-9rfa-c3hv") once, when it is made. Only its SHA-256 is stored: with 80
bits of entropy, no slow hash is needed to stop a guesser holding the database. A code is
taken by one atomic update, so two requests racing with the same code cannot both pass.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import RecoveryCode, User

__all__ = ["COUNT", "issue", "left", "normalise", "use"]

COUNT = 10
# Crockford's base32, lower case: no i, l, o or u, so nothing reads as another character.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_READ_AS = str.maketrans({"i": "1", "l": "1", "o": "0"})


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise(text: str) -> str:
    """The code as stored, from the code as typed: any case, dashes and spaces dropped,
    and the letters people mistake for digits read as those digits."""
    return text.lower().replace("-", "").replace(" ", "").translate(_READ_AS)


def _digest(text: str) -> bytes:
    return hashlib.sha256(normalise(text).encode()).digest()


def issue(user: User) -> list[str]:
    """Ten new codes for ``user``, replacing any they had; returned once, never stored."""
    codes = [_new_code() for _ in range(COUNT)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, digest=_digest(code)) for code in codes
        )
    return codes


def use(user: User, text: str) -> bool:
    """Takes one of ``user``'s unused codes: True once, False for a wrong or used code."""
    taken = RecoveryCode.objects.filter(
        user=user, digest=_digest(text), used_at__isnull=True
    ).update(used_at=timezone.now())
    return taken == 1


def left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
