"""Authenticator apps: TOTP (RFC 6238) with ``pyotp``, as every app reads it from a QR code:
HMAC-SHA-1, 6 digits, a new code every 30 seconds.

The server must compute the codes, so it must hold the secret. It is kept sealed
(XSalsa20-Poly1305, PyNaCl's ``SecretBox``) under a key derived from ``SECRET_KEY``: a
copy of the database alone gives no codes, but whoever holds the database *and*
``SECRET_KEY`` can compute them (docs/threat-model.md). A key in
``SECRET_KEY_FALLBACKS`` still opens secrets sealed before a rotation.

A code is taken for its own time step and the one before and after it (a clock a little
off, a code typed as it changed), and only for a step later than the last one taken:
no code is taken twice, and none older than one already taken.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from datetime import timedelta

import pyotp
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.secret import SecretBox

from accounts.factors import recovery_codes
from accounts.models import TotpDevice, User
from protocol.errors import SecondFactorExpiredError, SecondFactorInvalidError

__all__ = [
    "DIGITS",
    "ENROLMENT_SECONDS",
    "PERIOD_S",
    "NewSecret",
    "begin",
    "check",
    "code_at",
    "confirm",
    "confirmed_device",
    "current_step",
    "enrol_confirmed",
    "provisioning_uri",
]

PERIOD_S = 30
DIGITS = 6
# RFC 4226 recommends 160 bits, the size of SHA-1's output.
SECRET_BYTES = 20
# Steps either side of now whose codes are taken.
DRIFT_STEPS = 1
# How far back a code is recognised as one that expired, to say so rather than "wrong".
EXPIRED_STEPS = 20
# How long a begun enrolment waits for its confirming code.
ENROLMENT_SECONDS = 600
# The name apps show above the codes: the portal's, never the practice's, which on a
# client's phone would say whose client they are.
ISSUER = "Confide"


def _box_keys() -> list[bytes]:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [
        salted_hmac("confide.totp-secret", "", secret=key, algorithm="sha256").digest()
        for key in keys
    ]


def _seal(secret: bytes) -> bytes:
    return bytes(SecretBox(_box_keys()[0]).encrypt(secret))


def _unseal(sealed: bytes) -> bytes:
    for key in _box_keys():
        try:
            return bytes(SecretBox(key).decrypt(sealed))
        except NaclCryptoError:
            continue
    raise RuntimeError("An authenticator app's secret opens under no SECRET_KEY in use.")


def _base32(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // PERIOD_S)


def code_at(secret: bytes, step: int) -> str:
    """The code of ``secret`` for time step ``step`` (RFC 6238: HOTP of the step count)."""
    return pyotp.TOTP(_base32(secret), digits=DIGITS, interval=PERIOD_S).generate_otp(step)


def provisioning_uri(secret: bytes, account_name: str) -> str:
    """The ``otpauth://totp/...`` URI an app reads from the QR code."""
    totp = pyotp.TOTP(_base32(secret), digits=DIGITS, interval=PERIOD_S)
    return totp.provisioning_uri(name=account_name, issuer_name=ISSUER)


class NewSecret:
    """A secret just made for an enrolment: shown once, as text and as a QR code."""

    def __init__(self, secret: bytes, account_name: str) -> None:
        self._secret = secret
        self.base32 = _base32(secret)
        self.uri = provisioning_uri(secret, account_name)

    def __repr__(self) -> str:
        return "NewSecret(<hidden>)"


def begin(user: User) -> NewSecret:
    """A new pending device for ``user``, replacing a pending one; a confirmed device
    stays the account's factor until a code from the new one confirms it."""
    secret = secrets.token_bytes(SECRET_BYTES)
    with transaction.atomic():
        TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).delete()
        TotpDevice.objects.create(user=user, sealed_secret=_seal(secret))
    return NewSecret(secret, user.email)


def confirm(user: User, code: str) -> list[str]:
    """Confirms the pending device with a code from it: it becomes the account's app (in
    place of any other), and ten new recovery codes are made and returned once."""
    with transaction.atomic():
        device = (
            TotpDevice.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=True)
            .first()
        )
        fresh_since = timezone.now() - timedelta(seconds=ENROLMENT_SECONDS)
        if device is None or device.created_at < fresh_since:
            raise SecondFactorExpiredError(
                "No authenticator app is waiting to be confirmed (or it waited more than "
                f"{ENROLMENT_SECONDS // 60} minutes): begin the set-up again."
            )
        check(device, code)
        TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).delete()
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed_at"])
        return recovery_codes.issue(user)


def enrol_confirmed(user: User) -> NewSecret:
    """An app enrolled and confirmed at once, in place of any other, for an account an
    operator makes on the server (the demo's, whose secret is printed with its password):
    whoever runs the command holds the secret, as they hold the password."""
    secret = secrets.token_bytes(SECRET_BYTES)
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        TotpDevice.objects.create(
            user=user, sealed_secret=_seal(secret), confirmed_at=timezone.now()
        )
    return NewSecret(secret, user.email)


def confirmed_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def _matching_step(secret: bytes, code: str, steps: range) -> int | None:
    found = None
    for step in steps:
        # Every step is compared, in constant time, whatever matched before.
        if hmac.compare_digest(code_at(secret, step), code):
            found = step
    return found


def check(device: TotpDevice, code: str, *, now: float | None = None) -> None:
    """Takes ``code`` for ``device``, or raises ``SecondFactorInvalidError`` saying why
    not (wrong, already used, expired). Taking it records its step in one conditional
    update, so that two requests with the same code cannot both pass."""
    secret = _unseal(bytes(device.sealed_secret))
    step_now = current_step(now)
    step = _matching_step(secret, code, range(step_now - DRIFT_STEPS, step_now + DRIFT_STEPS + 1))
    if step is None:
        old = range(step_now - EXPIRED_STEPS, step_now - DRIFT_STEPS)
        if _matching_step(secret, code, old) is not None:
            raise SecondFactorInvalidError(
                "This code has expired. Type the code your app shows now; if it keeps "
                "happening, check that the time on your phone is set automatically."
            )
        raise SecondFactorInvalidError(
            "The code is wrong. Type the 6-digit code your authenticator app shows now."
        )
    taken = TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
        last_used_step=step
    )
    if taken != 1:
        raise SecondFactorInvalidError(
            "This code was already used. Wait for your app to show the next one (codes "
            f"change every {PERIOD_S} seconds) and type that."
        )
