"""Sign-in without the password ever reaching the server (crypto/SPEC.md, "Password derivation").

1. ``POST /api/auth/params`` gives the salt and Argon2id parameters for an email
   (for an unknown email, stable made-up ones, so the answer reveals nothing);
2. the client derives its authentication secret and key-encryption key;
3. ``POST /api/auth/signin`` with the authentication secret opens a session and
   returns the wrapped key bundle, which only the key-encryption key opens; for an
   account with a second factor it answers ``second_factor_required`` instead, signs
   nobody in and sends no key material, and ``POST /api/auth/signin/second-factor``
   (``accounts.second_factor``) finishes the sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import cast

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from django.middleware.csrf import get_token

import crypto
from accounts.access import end_access
from accounts.agreement import (
    accept_agreement,
    acceptance_of,
    agreement_text,
    current_agreement,
)
from accounts.api import api, parse_body, signed_in_user
from accounts.assisted_recovery import identity_change
from accounts.factors import methods_of, needs_enrolment, pending
from accounts.factors.attempts import TwoStepAttempt
from accounts.limits import sets_known_browser
from accounts.metrics import SIGNIN_FAILURES
from accounts.models import AgreementAcceptance, User, normalise_email
from accounts.practices import practice_body
from protocol.errors import ForbiddenError, NotFoundError, UnauthenticatedError
from protocol.factors import SecondFactorRequiredAnswer
from protocol.http import (
    AgreementAnswer,
    AgreementBody,
    AgreementRequest,
    CsrfAnswer,
    CurrentAgreementAnswer,
    KdfBody,
    MeBody,
    MemberBody,
    NotificationSettings,
    OkAnswer,
    ParamsRequest,
    RoleName,
    SignInRequest,
    UserAnswer,
)


def member_body(user: User) -> MemberBody:
    """How the API shows an account to others."""
    return MemberBody(
        id=user.pk,
        display_name=user.display_name,
        role=cast(RoleName, user.role),
        public_identity=crypto.b64encode(bytes(user.public_identity)),
        identity_changed=identity_change(user),
    )


def me_body(user: User) -> MeBody:
    """How the API shows an account to its owner: with its (wrapped) key material."""
    acceptance = user.agreements.order_by("-accepted_at", "-pk").first()
    return MeBody(
        **member_body(user).model_dump(),
        email=user.email,
        practice=practice_body(user.practice),
        kdf=kdf_body(bytes(user.kdf_salt), user.kdf_opslimit, user.kdf_memlimit),
        key_bundle=crypto.b64encode(bytes(user.key_bundle)),
        agreement=agreement_body(acceptance) if acceptance is not None else None,
        second_factor_enrolment_required=needs_enrolment(user),
    )


def agreement_body(acceptance: AgreementAcceptance) -> AgreementBody:
    """A messaging agreement the user accepted."""
    return AgreementBody(version=acceptance.version, accepted_at=acceptance.accepted_at)


def kdf_body(salt: bytes, opslimit: int, memlimit: int) -> KdfBody:
    return KdfBody(salt=crypto.b64encode(salt), opslimit=opslimit, memlimit=memlimit)


def stand_in_salt(email: str) -> bytes:
    """A salt for an email with no account: stable, so asking twice gives the same answer."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"confide/kdf-salt/" + email.encode(), hashlib.sha256).digest()[:16]


@api(methods=("GET",), auth=False)
def csrf(request: HttpRequest) -> CsrfAnswer:
    """Sets the CSRF cookie; every POST must echo it in ``X-CSRFToken``."""
    return CsrfAnswer(csrf_token=get_token(request))


@api(methods=("POST",), auth=False)
def params(request: HttpRequest) -> KdfBody:
    body = parse_body(request, ParamsRequest)
    email = normalise_email(body.email)
    user = User.objects.filter(email=email).only("kdf_salt", "kdf_opslimit", "kdf_memlimit").first()
    if user is None:
        defaults = crypto.DEFAULT_KDF_PARAMS
        return kdf_body(stand_in_salt(email), defaults.opslimit, defaults.memlimit)
    return kdf_body(bytes(user.kdf_salt), user.kdf_opslimit, user.kdf_memlimit)


@sets_known_browser
@api(methods=("POST",), auth=False)
def signin(request: HttpRequest) -> UserAnswer | SecondFactorRequiredAnswer:
    """Checks the secret under the sign-in limits. For an account with a second factor a
    right secret is not yet a correct attempt (``accounts.factors.attempts``): the session
    only remembers the account waiting (``accounts.factors.pending``), and the answer
    names the methods of the second step, without the key bundle."""
    body = parse_body(request, SignInRequest)
    email = normalise_email(body.email)
    attempt = TwoStepAttempt.begin(request, email)
    user = authenticate(request, username=email, password=body.auth_secret)
    if not isinstance(user, User):
        attempt.settle(correct=False)
        SIGNIN_FAILURES.labels(reason="password").inc()
        raise UnauthenticatedError("The email or password is wrong.")
    methods = methods_of(user)
    if methods:
        end_session(request)
        pending.begin(request, user, held=attempt.hold())
        return SecondFactorRequiredAnswer(methods=methods, expires_in_s=pending.PENDING_SECONDS)
    attempt.settle(correct=True)
    pending.end(request)
    login(request, user)
    return UserAnswer(user=me_body(user))


def end_session(request: HttpRequest) -> None:
    """Signs out whoever the session belongs to, and closes the websockets opened with it."""
    user_id = request.user.pk if request.user.is_authenticated else None
    session_key = request.session.session_key
    logout(request)
    if user_id is not None:
        end_access([user_id], session_key)


@api(methods=("POST",), auth=False)
def signout(request: HttpRequest) -> OkAnswer:
    """Ends the session (or a sign-in waiting for its second factor) and closes the
    websockets opened with it."""
    end_session(request)
    return OkAnswer(ok=True)


@api(methods=("GET",), before_enrolment=True)
def me(request: HttpRequest) -> UserAnswer:
    return UserAnswer(user=me_body(signed_in_user(request)))


@api(methods=("GET", "POST"))
def agreement(request: HttpRequest) -> CurrentAgreementAnswer | AgreementAnswer:
    """``GET``: the practice's current messaging agreement and the signed-in person's
    acceptance of it. ``POST`` (clients only): records that the client accepted the
    current version; any other version is ``agreement_required`` (the text changed since
    it was shown). Accepting a version again keeps the first record and answers with it.
    """
    user = signed_in_user(request)
    if request.method == "GET":
        return current_agreement_answer(user)
    if not user.is_client:
        raise ForbiddenError("Only clients accept the messaging agreement.")
    body = parse_body(request, AgreementRequest)
    return AgreementAnswer(agreement=agreement_body(accept_agreement(user, body.version)))


def current_agreement_answer(user: User) -> CurrentAgreementAnswer:
    current = current_agreement(user.practice_id)
    if current is None:
        raise NotFoundError("Your practice has no messaging agreement.")
    acceptance = acceptance_of(user, current.version)
    return CurrentAgreementAnswer(
        agreement=agreement_text(current),
        accepted=agreement_body(acceptance) if acceptance is not None else None,
    )


@api(methods=("GET", "POST"))
def notification_settings(request: HttpRequest) -> NotificationSettings:
    """The member's email notifications, on or off (messaging.services.notifications)."""
    user = signed_in_user(request)
    if request.method == "POST":
        body = parse_body(request, NotificationSettings)
        User.objects.filter(pk=user.pk).update(email_notifications=body.email)
        return body
    return NotificationSettings(email=user.email_notifications)
