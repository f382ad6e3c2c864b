"""Assisted recovery: a client who lost both their password and their recovery key gets
their account, and their history, back through their therapist (crypto/SPEC.md, "Assisted
recovery"; docs/protocol.md, "Assisted recovery").

1. ``POST /api/auth/assisted-recovery`` ``{email, the new account material}``, no sign-in:
   the client's new browser made a new identity, password material and recovery key, as
   at sign-up. The server keeps them as an :class:`~accounts.models.AssistedRecovery`,
   pending, and changes nothing of the account. An email with no client account gets the
   same answer and nothing is kept; a new request replaces an older pending one; a request
   lapses after ``CONFIDE_ASSISTED_RECOVERY_DAYS``.
2. The client shows their therapist, in a session, the new identity's number (its 30 digits
   and QR code); the therapist's browser shows the number of the identity the server holds
   for the request, and the two compare them.
3. The therapist confirms (``messaging.services.recoveries``): their browser wraps every
   epoch key of their conversations with the client to the new identity and signs an
   identity succession (the client's old identity is replaced by the new one), and the
   server checks the succession (:func:`check_succession`) and, in one transaction, gives
   the account the pending material (:func:`apply_recovery`) and the client those
   envelopes. The new authentication secret ends every session of the account and closes
   its sockets. The succession is served with the client (:func:`identity_change`): it is
   what the client's peers take the old identity from, never the server's word.

Nothing here can change an account on its own: only a therapist's confirmation does, and
only for a request the client made (the therapist compared its number with them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone

import crypto
from accounts.api import api, parse_body
from accounts.counters import give_back, hit
from accounts.limits import client_network, counter_key
from accounts.models import (
    AssistedRecovery,
    PinRecord,
    RecoveryEnvelope,
    Role,
    User,
    normalise_email,
)
from accounts.signup import account_keys, check_keys
from audit.log import record
from crypto import CryptoError, PublicIdentity
from protocol.audit import AuditKind
from protocol.errors import BadRequestError, RateLimitedError, RecoveryInvalidError
from protocol.http import (
    AssistedRecoveryAnswer,
    AssistedRecoveryRequest,
    IdentityChangeBody,
    RecoveryState,
)

__all__ = [
    "apply_recovery",
    "assisted_recovery",
    "check_succession",
    "decline",
    "identity_change",
    "recovery_requested",
    "request_recovery",
    "require_pending",
    "state_of",
]

log = logging.getLogger(__name__)

# Arguments: recovery_id (int), client_id (int). Sent after the commit of a new request;
# the messaging app tells the client's therapists.
recovery_requested = Signal()


def _setting(name: str) -> int:
    value: int = getattr(settings, name)
    return value


def lifetime() -> timedelta:
    return timedelta(days=_setting("CONFIDE_ASSISTED_RECOVERY_DAYS"))


# --- the client's request ---------------------------------------------------------------


def _count(key: str, limit_setting: str, window_setting: str) -> str:
    """Counts one request on ``key``; over the limit, takes it back and refuses."""
    limit, window = _setting(limit_setting), _setting(window_setting)
    if hit(key, window) > limit:
        give_back(key)
        raise RateLimitedError("Too many recovery requests; try again later.", retry_after_s=window)
    return key


def count_request(request: HttpRequest, email: str) -> None:
    """``CONFIDE_RECOVERY_ATTEMPTS`` per address per recovery window, and
    ``CONFIDE_ASSISTED_RECOVERY_EMAIL_ATTEMPTS`` per email per its window: each request
    replaces the one before and tells the client's therapists, so a stranger who knows an
    email may do so only a few times a day. Counted alike whether the email has an account
    or not, per network as sign-in counts (an IPv4 address or an IPv6 /64), under keyed
    hashes. The limit per email is a trade: a stranger can use up a day's requests for an
    email (the client then asks again the next day, or in session), but cannot make the
    client's therapists answer a stream of made-up requests."""
    address = _count(
        counter_key("assisted-recovery-network", client_network(request)),
        "CONFIDE_RECOVERY_ATTEMPTS",
        "CONFIDE_RECOVERY_WINDOW_SECONDS",
    )
    try:
        _count(
            counter_key("assisted-recovery-email", email),
            "CONFIDE_ASSISTED_RECOVERY_EMAIL_ATTEMPTS",
            "CONFIDE_ASSISTED_RECOVERY_EMAIL_WINDOW_SECONDS",
        )
    except RateLimitedError:
        give_back(address)
        raise


@dataclass(frozen=True)
class Requested:
    """What a request answers: when it lapses. ``recovery`` is None when nothing was kept
    (the email has no client account), which the answer does not tell."""

    expires_at: datetime
    recovery: AssistedRecovery | None


def request_recovery(body: AssistedRecoveryRequest) -> Requested:
    """Keeps the new material as the pending recovery of the client account of the email,
    in place of any earlier pending one; the account itself stays as it is.

    The material is checked first (``bad_request``, whatever the email), and the
    authentication secret is hashed for every request, so that the answer never tells
    whether the email has an account, and its time tells little (only the rows written for
    an account add to it).
    """
    keys = account_keys(
        auth_secret=body.auth_secret,
        kdf=body.kdf,
        public_identity=body.public_identity,
        key_bundle=body.key_bundle,
        recovery_bundle=body.recovery_bundle,
    )
    check_keys(keys)
    hashed = make_password(keys.auth_secret)
    now = timezone.now()
    expires_at = now + lifetime()
    email = normalise_email(body.email)
    with transaction.atomic():
        client = (
            User.objects.select_for_update()
            .filter(email=email, is_active=True, role=Role.CLIENT)
            .first()
        )
        if client is None:
            return Requested(expires_at, None)
        earlier = list(
            AssistedRecovery.objects.filter(client=client, state=AssistedRecovery.State.PENDING)
        )
        RecoveryEnvelope.objects.filter(recovery__in=earlier).delete()
        AssistedRecovery.objects.filter(pk__in=[r.pk for r in earlier]).update(
            state=AssistedRecovery.State.REPLACED, decided_at=now
        )
        recovery = AssistedRecovery.objects.create(
            client=client,
            requested_at=now,
            expires_at=expires_at,
            password=hashed,
            kdf_salt=keys.salt,
            kdf_opslimit=keys.params.opslimit,
            kdf_memlimit=keys.params.memlimit,
            public_identity=keys.public_identity,
            key_bundle=keys.key_bundle,
            recovery_bundle=keys.recovery_bundle,
        )
        transaction.on_commit(
            lambda: recovery_requested.send(
                sender=request_recovery, recovery_id=recovery.pk, client_id=client.pk
            )
        )
        record(
            AuditKind.ASSISTED_RECOVERY_REQUESTED,
            actor_email=client.email,
            practice_id=client.practice_id,
            subject=f"user:{client.pk}",
            details={"recovery": recovery.pk},
        )
    log.info("assisted recovery %s requested for user %s", recovery.pk, client.pk)
    return Requested(expires_at, recovery)


@api(methods=("POST",), auth=False)
def assisted_recovery(request: HttpRequest) -> AssistedRecoveryAnswer:
    body = parse_body(request, AssistedRecoveryRequest)
    count_request(request, normalise_email(body.email))
    return AssistedRecoveryAnswer(expires_at=request_recovery(body).expires_at)


# --- deciding -------------------------------------------------------------------------------


def state_of(recovery: AssistedRecovery, now: datetime | None = None) -> RecoveryState:
    """Its state as people see it: a pending request past its time is ``expired``."""
    if recovery.state == AssistedRecovery.State.PENDING:
        if recovery.expires_at <= (now or timezone.now()):
            return "expired"
        return "pending"
    state: RecoveryState = recovery.state  # type: ignore[assignment]
    return state


_NOT_PENDING = {
    "confirmed": "This recovery was already confirmed.",
    "declined": "This recovery was declined.",
    "replaced": "The client asked again since: this request was replaced by a newer one.",
    "expired": "This recovery request expired: the client can make a new one.",
}


def require_pending(recovery: AssistedRecovery) -> None:
    """``RecoveryInvalidError`` saying why, for a request that can no longer be decided."""
    state = state_of(recovery)
    if state != "pending":
        raise RecoveryInvalidError(f"{_NOT_PENDING[state]} Nothing was changed.")


# How far the confirming browser's clock, which dates the succession, may be from ours.
SUCCESSION_CLOCK_SKEW = timedelta(days=1)


def check_succession(recovery: AssistedRecovery, therapist: User, succession: bytes) -> None:
    """``BadRequestError`` unless ``succession`` is the therapist's signed word that the
    client's current identity is replaced by the request's new one (crypto/SPEC.md,
    "Identity succession"), dated by a clock within a day of ours. Inside the caller's
    transaction, which holds the client's account and the request locked."""
    client = User.objects.get(pk=recovery.client_id)
    try:
        stated = crypto.verify_succession(
            succession,
            PublicIdentity.from_bytes(bytes(therapist.public_identity)),
            user_id=client.pk,
            confirmer_id=therapist.pk,
            new_identity=PublicIdentity.from_bytes(bytes(recovery.public_identity)),
        )
    except CryptoError as exc:
        raise BadRequestError(
            "The succession is not signed by you for this client's new identity, or is "
            f"malformed: {exc}. Reload the request and confirm again; nothing was changed."
        ) from None
    if stated.previous_identity.to_bytes() != bytes(client.public_identity):
        raise BadRequestError(
            "The succession names another identity than the client's current one: their keys "
            "changed since your browser last saw them. Reload, compare the safety number with "
            "them, then confirm again; nothing was changed."
        )
    signed_at = datetime.fromtimestamp(stated.confirmed_at, tz=UTC)
    if abs(signed_at - timezone.now()) > SUCCESSION_CLOCK_SKEW:
        raise BadRequestError(
            "The succession is dated more than a day from now: set your device's clock right, "
            "then confirm again; nothing was changed."
        )


def apply_recovery(recovery: AssistedRecovery, therapist: User, succession: bytes) -> User:
    """Gives the client's account the pending material: identity, authentication secret
    (as hashed at the request), salt and parameters, both bundles, and keeps the
    therapist's succession. Runs inside the caller's transaction, which holds ``recovery``
    locked and has checked it is pending, that ``therapist`` may confirm it and the
    succession (:func:`check_succession`); the new secret ends every session of the account
    and closes its sockets after the commit (``accounts.signals``)."""
    now = timezone.now()
    client = User.objects.select_for_update().get(pk=recovery.client_id)
    recovery.previous_identity = bytes(client.public_identity)
    recovery.succession = succession
    recovery.state = AssistedRecovery.State.CONFIRMED
    recovery.decided_by = therapist
    recovery.decided_at = now
    recovery.save(
        update_fields=["previous_identity", "succession", "state", "decided_by", "decided_at"]
    )
    client.password = recovery.password
    client.kdf_salt = bytes(recovery.kdf_salt)
    client.kdf_opslimit = recovery.kdf_opslimit
    client.kdf_memlimit = recovery.kdf_memlimit
    client.public_identity = bytes(recovery.public_identity)
    client.key_bundle = bytes(recovery.key_bundle)
    client.recovery_bundle = bytes(recovery.recovery_bundle)
    client.keys_changed_at = now
    client.identity_recovery = recovery
    client.save(
        update_fields=[
            "password",
            "kdf_salt",
            "kdf_opslimit",
            "kdf_memlimit",
            "public_identity",
            "key_bundle",
            "recovery_bundle",
            "keys_changed_at",
            "identity_recovery",
        ]
    )
    RecoveryEnvelope.objects.filter(recovery=recovery).delete()
    # The pin record was sealed under the replaced identity, which nobody holds any more:
    # the new identity starts a new one (crypto/SPEC.md, "Pins").
    PinRecord.objects.filter(user=client).delete()
    log.info(
        "assisted recovery %s of user %s confirmed by %s", recovery.pk, client.pk, therapist.pk
    )
    return client


def decline(recovery: AssistedRecovery, therapist: User) -> None:
    """Marks the request declined (inside the caller's transaction, as for
    :func:`apply_recovery`); the account stays as it was."""
    recovery.state = AssistedRecovery.State.DECLINED
    recovery.decided_by = therapist
    recovery.decided_at = timezone.now()
    recovery.save(update_fields=["state", "decided_by", "decided_at"])
    RecoveryEnvelope.objects.filter(recovery=recovery).delete()
    log.info("assisted recovery %s declined by %s", recovery.pk, therapist.pk)


# --- how others see the change --------------------------------------------------------------


def identity_change(user: User) -> IdentityChangeBody | None:
    """Why ``user``'s identity is not the one they signed up with, for the people they
    write with: the confirmed recoveries that changed it, with the successions their
    therapists signed (one query, only for an account an assisted recovery changed)."""
    if user.identity_recovery_id is None:
        return None
    confirmed = list(
        AssistedRecovery.objects.filter(client=user, state=AssistedRecovery.State.CONFIRMED)
        .select_related("decided_by")
        .order_by("decided_at", "pk")
    )
    latest = next((r for r in confirmed if r.pk == user.identity_recovery_id), None)
    if latest is None or latest.decided_at is None:
        return None
    confirmer = latest.decided_by
    return IdentityChangeBody(
        reason="recovery",
        confirmed_by=confirmer.pk if confirmer is not None else None,
        confirmed_by_name=confirmer.display_name if confirmer is not None else "",
        at=latest.decided_at,
        successions=[
            crypto.b64encode(bytes(r.succession)) for r in confirmed if r.succession is not None
        ],
    )
