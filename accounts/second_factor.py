"""The endpoints of second factors (docs/protocol.md, "Second factors").

The second step of a sign-in, under ``/api/auth/signin/`` so that the known-browser cookie
of ``accounts.limits`` (whose path is ``/api/auth/signin``) travels with it:

* ``POST /api/auth/signin/passkey-options``: a passkey challenge for the waiting sign-in;
* ``POST /api/auth/signin/second-factor``: a code, a recovery code or a passkey's answer;
  signs in and answers with the account and its wrapped key bundle.

Enrolment, for the signed-in account (answered before a therapist or admin has a factor):

* ``GET /api/2fa``: the account's factors;
* ``POST /api/2fa/totp/begin`` and ``/confirm``: an authenticator app, confirmed by a code;
* ``POST /api/2fa/webauthn/register/begin`` and ``/finish``: a passkey;
* ``POST /api/2fa/remove``: a factor, proved by a fresh code or the password.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest

from accounts import factors
from accounts.api import api, parse_body, signed_in_user
from accounts.counters import give_back, hit
from accounts.factors import passkeys, pending, recovery_codes, totp
from accounts.factors.attempts import SecondFactorBudget, TwoStepAttempt
from accounts.limits import sets_known_browser
from accounts.metrics import SIGNIN_FAILURES
from accounts.models import Passkey, RecoveryCode, TotpDevice, User
from accounts.recovery import Recovered, apply_recovered
from accounts.views import me_body
from audit.log import record
from protocol.audit import AuditKind
from protocol.errors import (
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    SecondFactorExpiredError,
    SecondFactorInvalidError,
)
from protocol.factors import (
    FactorsAnswer,
    PasskeyFinishRequest,
    PasskeyItem,
    PasskeyOptionsAnswer,
    PasskeyRegisteredAnswer,
    RemoveFactorRequest,
    SecondFactorRequest,
    TotpBeginAnswer,
    TotpConfirmAnswer,
    TotpConfirmRequest,
    TotpItem,
)
from protocol.http import UserAnswer

__all__ = [
    "factors_list",
    "passkey_register_begin",
    "passkey_register_finish",
    "remove_factor",
    "signin_passkey_options",
    "signin_second_factor",
    "totp_begin",
    "totp_confirm",
]


# --- the second step of a sign-in ---------------------------------------------------------


@api(methods=("POST",), auth=False)
def signin_passkey_options(request: HttpRequest) -> PasskeyOptionsAnswer:
    """A new passkey challenge for the waiting sign-in (any earlier one is dropped)."""
    waiting, user = pending.current(request)
    if not Passkey.objects.filter(user=user).exists():
        raise NotFoundError("This account has no passkey: use your authenticator app.")
    options, challenge = passkeys.assertion_options(request, user)
    waiting.keep_passkey_challenge(challenge)
    pending.save(request, waiting)
    return PasskeyOptionsAnswer(options=options)


@sets_known_browser
@api(methods=("POST",), auth=False)
def signin_second_factor(request: HttpRequest) -> UserAnswer:
    """Finishes a sign-in that answered ``second_factor_required``. Each proof is an
    attempt under the sign-in limits and the account's budget of wrong second factors
    (``accounts.factors.attempts``); a wrong one counts as a failure for the account, and
    ``MAX_TRIES`` of them end the wait."""
    body = parse_body(request, SecondFactorRequest)
    waiting, user = pending.current(request)
    attempt = TwoStepAttempt.begin(request, waiting.email)
    budget = SecondFactorBudget(user)
    try:
        budget.spend()
    except RateLimitedError:
        attempt.withdraw()
        raise
    try:
        _check(request, user, body, waiting)
    except SecondFactorInvalidError as exc:
        attempt.settle(correct=False)
        SIGNIN_FAILURES.labels(reason="second_factor").inc()
        record(
            AuditKind.SECOND_FACTOR_FAILED,
            request=request,
            actor=user,
            subject=f"user:{user.pk}",
            details={"method": _method(body)},
        )
        waiting.tries += 1
        if waiting.tries >= pending.MAX_TRIES:
            pending.end(request)
            raise SecondFactorInvalidError(
                f"{exc.message} That was the last try: sign in again with your password."
            ) from None
        pending.save(request, waiting)
        raise
    budget.refund()
    pending.end(request)
    if waiting.recovery is not None:
        # A recovery with the recovery key waited for this: its new password is stored now
        # (before the attempt is settled, so the known-browser cookie is of the new secret).
        recovered = Recovered.from_session(waiting.recovery)
        if recovered.user_id != user.pk:
            raise SecondFactorExpiredError("This recovery does not belong to this sign-in.")
        user = apply_recovered(recovered)
    attempt.settle(correct=True, held=waiting.held)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return UserAnswer(user=me_body(user))


def _method(body: SecondFactorRequest) -> str:
    if body.totp is not None:
        return "totp"
    return "recovery_code" if body.recovery_code is not None else "passkey"


def _check(
    request: HttpRequest, user: User, body: SecondFactorRequest, waiting: pending.PendingSignIn
) -> None:
    """Takes one proof of ``user``'s second factor, or raises ``SecondFactorInvalidError``."""
    if body.totp is not None:
        device = totp.confirmed_device(user)
        if device is None:
            raise SecondFactorInvalidError(
                "This account has no authenticator app: use a passkey or a recovery code."
            )
        totp.check(device, body.totp)
    elif body.recovery_code is not None:
        if not factors.has_second_factor(user) or not recovery_codes.use(user, body.recovery_code):
            raise SecondFactorInvalidError(
                "This recovery code is wrong or was already used. Each code works once: "
                "try another of your codes."
            )
    elif body.webauthn is not None:
        # The challenge is gone once read, whatever the answer: no assertion is taken twice.
        challenge = waiting.take_passkey_challenge()
        pending.save(request, waiting)
        if challenge is None:
            raise SecondFactorInvalidError(
                "This passkey answer was already used, or no passkey was asked for: "
                "try your passkey again."
            )
        passkeys.check_assertion(request, user, body.webauthn, challenge)


# --- enrolment ----------------------------------------------------------------------------


def factors_answer(user: User) -> FactorsAnswer:
    device = totp.confirmed_device(user)
    return FactorsAnswer(
        totp=TotpItem(confirmed_at=device.confirmed_at)
        if device is not None and device.confirmed_at is not None
        else None,
        passkeys=[passkey_item(p) for p in Passkey.objects.filter(user=user).order_by("pk")],
        recovery_codes_left=recovery_codes.left(user),
        required=user.role in factors.STAFF_ROLES,
    )


def passkey_item(passkey: Passkey) -> PasskeyItem:
    return PasskeyItem(
        id=passkey.pk,
        name=passkey.name,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
    )


@api(methods=("GET",), before_enrolment=True)
def factors_list(request: HttpRequest) -> FactorsAnswer:
    return factors_answer(signed_in_user(request))


@api(methods=("POST",), before_enrolment=True)
def totp_begin(request: HttpRequest) -> TotpBeginAnswer:
    """A new secret for an authenticator app, pending until ``/confirm``; the account's
    factors do not change until then."""
    user = signed_in_user(request)
    secret = totp.begin(user)
    return TotpBeginAnswer(
        secret=secret.base32, uri=secret.uri, digits=totp.DIGITS, period_s=totp.PERIOD_S
    )


@api(methods=("POST",), before_enrolment=True)
def totp_confirm(request: HttpRequest) -> TotpConfirmAnswer:
    user = signed_in_user(request)
    body = parse_body(request, TotpConfirmRequest)
    with transaction.atomic():
        codes = totp.confirm(user, body.code)
        record(AuditKind.SECOND_FACTOR_ADDED, request=request, details={"method": "totp"})
    return TotpConfirmAnswer(factors=factors_answer(user), recovery_codes=codes)


@api(methods=("POST",), before_enrolment=True)
def passkey_register_begin(request: HttpRequest) -> PasskeyOptionsAnswer:
    user = signed_in_user(request)
    return PasskeyOptionsAnswer(options=passkeys.registration_options(request, user))


@api(methods=("POST",), before_enrolment=True)
def passkey_register_finish(request: HttpRequest) -> PasskeyRegisteredAnswer:
    """Keeps the new passkey; with the account's first factor come its recovery codes."""
    user = signed_in_user(request)
    body = parse_body(request, PasskeyFinishRequest)
    with transaction.atomic():
        first = not factors.has_second_factor(user)
        passkey = passkeys.register(request, user, body.credential, body.name)
        codes = recovery_codes.issue(user) if first else None
        record(
            AuditKind.SECOND_FACTOR_ADDED,
            request=request,
            details={"method": "passkey", "passkey": passkey.pk},
        )
    return PasskeyRegisteredAnswer(
        factors=factors_answer(user), passkey=passkey_item(passkey), recovery_codes=codes
    )


@api(methods=("POST",))
def remove_factor(request: HttpRequest) -> FactorsAnswer:
    """Removes the authenticator app or a passkey, proved by a fresh code or the password.
    A therapist or admin keeps at least one factor; the last factor of a client takes the
    recovery codes with it."""
    user = signed_in_user(request)
    body = parse_body(request, RemoveFactorRequest)
    device = totp.confirmed_device(user)
    passkey_count = Passkey.objects.filter(user=user).count()
    passkeys = Passkey.objects.filter(user=user, pk=body.passkey_id or 0)
    if body.factor == "totp":
        if device is None:
            raise NotFoundError("This account has no authenticator app.")
        remaining = passkey_count
    else:
        if not passkeys.exists():
            raise NotFoundError("This account has no such passkey.")
        remaining = passkey_count - 1 + (device is not None)
    if remaining == 0 and user.role in factors.STAFF_ROLES:
        raise ForbiddenError(
            "Therapists and admins keep at least one second factor: add another (a passkey "
            "or a new authenticator app) before removing this one."
        )
    _prove(user, body, device)
    with transaction.atomic():
        if body.factor == "totp":
            TotpDevice.objects.filter(user=user).delete()
        else:
            passkeys.delete()
        if remaining == 0:
            RecoveryCode.objects.filter(user=user).delete()
        record(
            AuditKind.SECOND_FACTOR_REMOVED,
            request=request,
            details={"method": body.factor, "passkey": body.passkey_id, "left": remaining},
        )
    return factors_answer(user)


def _prove(user: User, body: RemoveFactorRequest, device: TotpDevice | None) -> None:
    """Checks the proof of a removal: a fresh code, or the authentication secret. Wrong
    proofs count per account (``CONFIDE_SIGNIN_PAIR_ATTEMPTS`` per sign-in window), so a
    session left open is no way to guess the password."""
    key = f"confide:2fa-proof:{user.pk}"
    window: int = settings.CONFIDE_SIGNIN_WINDOW_SECONDS
    allowed: int = settings.CONFIDE_SIGNIN_PAIR_ATTEMPTS
    if hit(key, window) > allowed:
        give_back(key)
        raise RateLimitedError("Too many wrong proofs; try again later.", retry_after_s=window)
    if body.totp is not None:
        if device is None:
            raise SecondFactorInvalidError(
                "This account has no authenticator app: prove it is you with your password."
            )
        totp.check(device, body.totp)
    elif body.auth_secret is None or not user.check_password(body.auth_secret):
        raise SecondFactorInvalidError("The password is wrong.")
    give_back(key)
