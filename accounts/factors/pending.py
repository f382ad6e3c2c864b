"""A sign-in waiting for its second factor: the half-authenticated state.

When an account with a second factor gives its right secret, nobody is signed in: the
session only remembers, for ``PENDING_SECONDS``, which account is waiting, bound to its
current secret (a secret changed meanwhile ends the wait), with the counters of the
attempt held (``accounts.factors.attempts``) and the challenge of a passkey request.
Every view but the second step treats such a session as signed out, because Django's
authentication knows nothing of it. ``MAX_TRIES`` wrong second factors end the wait:
sign in again with the password.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from django.http import HttpRequest

import crypto
from accounts.models import User
from protocol.errors import SecondFactorExpiredError

__all__ = ["MAX_TRIES", "PENDING_SECONDS", "PendingSignIn", "begin", "current", "end", "save"]

PENDING_SECONDS = 300
MAX_TRIES = 3
_KEY = "confide.pending_sign_in"


@dataclass
class PendingSignIn:
    user_id: int
    email: str
    auth_hash: str = field(repr=False)
    expires: float
    held: list[str] = field(default_factory=list, repr=False)
    tries: int = 0
    passkey_challenge: str | None = field(default=None, repr=False)
    # A recovery with the recovery key, checked and waiting for the second factor
    # (``accounts.recovery.Recovered.to_session``): stored when the second step passes.
    recovery: dict[str, object] | None = field(default=None, repr=False)

    def take_passkey_challenge(self) -> bytes | None:
        """The waiting passkey challenge, gone from then on (saved with ``save``)."""
        challenge, self.passkey_challenge = self.passkey_challenge, None
        return crypto.b64decode(challenge) if challenge else None

    def keep_passkey_challenge(self, challenge: bytes) -> None:
        self.passkey_challenge = crypto.b64encode(challenge)


def begin(
    request: HttpRequest,
    user: User,
    held: list[str],
    recovery: dict[str, object] | None = None,
) -> PendingSignIn:
    """Starts the wait in a new session key (nothing of an earlier session is carried);
    ``recovery``, a recovery to store when the second factor passes."""
    request.session.cycle_key()
    pending = PendingSignIn(
        user_id=user.pk,
        email=user.email,
        auth_hash=user.get_session_auth_hash(),
        expires=time.time() + PENDING_SECONDS,
        held=held,
        recovery=recovery,
    )
    save(request, pending)
    return pending


def save(request: HttpRequest, pending: PendingSignIn) -> None:
    request.session[_KEY] = asdict(pending)


def end(request: HttpRequest) -> None:
    request.session.pop(_KEY, None)


_GONE = (
    "No sign-in is waiting for a second factor (it waited more than "
    f"{PENDING_SECONDS // 60} minutes, or was finished): sign in again with your password."
)


def current(request: HttpRequest) -> tuple[PendingSignIn, User]:
    """The waiting sign-in and its account, or ``SecondFactorExpiredError`` (and the wait
    forgotten) when there is none, it expired, or the account changed meanwhile."""
    kept = request.session.get(_KEY)
    if not isinstance(kept, dict):
        raise SecondFactorExpiredError(_GONE)
    try:
        pending = PendingSignIn(**kept)
    except TypeError:
        end(request)
        raise SecondFactorExpiredError(_GONE) from None
    user = User.objects.filter(pk=pending.user_id, is_active=True).first()
    if (
        user is None
        or pending.expires < time.time()
        or user.get_session_auth_hash() != pending.auth_hash
    ):
        end(request)
        raise SecondFactorExpiredError(_GONE)
    return pending, user
