"""Passkeys and security keys (WebAuthn), checked with the ``webauthn`` library.

The relying party is the portal as the browser reached it: its host name is the RP ID and
``scheme://host[:port]`` the expected origin (or one of ``CONFIDE_ORIGINS`` behind a proxy
that rewrites ``Host``). Each ceremony's challenge is 32 random bytes kept in the session,
good for one answer and for ``CHALLENGE_SECONDS``: whatever the answer, the challenge is
gone, so an assertion seen once cannot be replayed. No attestation is asked for: the
portal trusts the person's choice of authenticator, and an attestation would only
identify its maker.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.crypto import salted_hmac
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.models import Passkey, User
from protocol.errors import SecondFactorExpiredError, SecondFactorInvalidError

__all__ = [
    "CHALLENGE_SECONDS",
    "assertion_options",
    "check_assertion",
    "register",
    "registration_options",
]

CHALLENGE_SECONDS = 300
RP_NAME = "Confide"
_REGISTRATION = "confide.passkey_registration"
_KNOWN_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}


def _rp_id(request: HttpRequest) -> str:
    domain, _ = split_domain_port(request.get_host())
    return domain


def _origins(request: HttpRequest) -> list[str]:
    own = f"{request.scheme}://{request.get_host().lower()}"
    return [own, *settings.CONFIDE_ORIGINS]


def _user_handle(user: User) -> bytes:
    """The WebAuthn user handle: stable per account, naming nothing (not the email, not the
    database id), as the specification asks."""
    return salted_hmac("confide.webauthn-user", str(user.pk), algorithm="sha256").digest()[:16]


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=bytes(passkey.credential_id),
            transports=[
                AuthenticatorTransport(t) for t in passkey.transports if t in _KNOWN_TRANSPORTS
            ],
        )
        for passkey in Passkey.objects.filter(user=user)
    ]


def _as_json(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def _keep_challenge(session: SessionBase, key: str, challenge: bytes) -> None:
    session[key] = {
        "challenge": bytes_to_base64url(challenge),
        "expires": time.time() + CHALLENGE_SECONDS,
    }


def _take_challenge(session: SessionBase, key: str) -> bytes:
    """The challenge kept under ``key``, removed whatever happens next."""
    kept = session.pop(key, None)
    if not isinstance(kept, dict) or float(kept.get("expires", 0)) < time.time():
        raise SecondFactorExpiredError(
            "No passkey request is waiting (it expired or was answered already): ask again."
        )
    return base64url_to_bytes(str(kept["challenge"]))


# --- registration -------------------------------------------------------------------------


def registration_options(request: HttpRequest, user: User) -> dict[str, Any]:
    """Options for ``navigator.credentials.create``; the challenge waits in the session."""
    options = generate_registration_options(
        rp_id=_rp_id(request),
        rp_name=RP_NAME,
        user_id=_user_handle(user),
        user_name=user.email,
        user_display_name=user.display_name,
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        timeout=CHALLENGE_SECONDS * 1000,
    )
    _keep_challenge(request.session, _REGISTRATION, options.challenge)
    return _as_json(options)


def register(request: HttpRequest, user: User, credential: dict[str, Any], name: str) -> Passkey:
    """Checks the new credential against the waiting challenge and keeps it; raises
    ``SecondFactorExpiredError`` or ``SecondFactorInvalidError`` and keeps nothing."""
    challenge = _take_challenge(request.session, _REGISTRATION)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=_rp_id(request),
            expected_origin=_origins(request),
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as exc:
        raise SecondFactorInvalidError(
            f"The passkey could not be checked ({exc}). Try adding it again."
        ) from None
    transports = credential.get("response", {}).get("transports", [])
    with transaction.atomic():
        if Passkey.objects.filter(credential_id=verified.credential_id).exists():
            raise SecondFactorInvalidError("This passkey is already registered.")
        return Passkey.objects.create(
            user=user,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[t for t in transports if t in _KNOWN_TRANSPORTS]
            if isinstance(transports, list)
            else [],
            name=name,
        )


# --- authentication -----------------------------------------------------------------------


def assertion_options(request: HttpRequest, user: User) -> tuple[dict[str, Any], bytes]:
    """Options for ``navigator.credentials.get`` naming ``user``'s passkeys, and their
    challenge (which the caller keeps with the sign-in waiting for it)."""
    options = generate_authentication_options(
        rp_id=_rp_id(request),
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
        timeout=CHALLENGE_SECONDS * 1000,
    )
    return _as_json(options), options.challenge


def check_assertion(
    request: HttpRequest, user: User, credential: dict[str, Any], challenge: bytes
) -> Passkey:
    """Checks an assertion from one of ``user``'s passkeys against ``challenge``, and
    records the authenticator's new counter; raises ``SecondFactorInvalidError``."""
    refused = SecondFactorInvalidError(
        "The passkey was not accepted. Try again, or use your authenticator app or a recovery code."
    )
    try:
        raw_id = base64url_to_bytes(str(credential["rawId"]))
    except (KeyError, TypeError, ValueError):
        raise refused from None
    passkey = Passkey.objects.filter(user=user, credential_id=raw_id).first()
    if passkey is None:
        raise refused
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=_rp_id(request),
            expected_origin=_origins(request),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise refused from None
    # A counter that did not grow (a clone, or a replay) was refused above; the update is
    # conditional so that two racing answers cannot both move it.
    moved = Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
        sign_count=verified.new_sign_count, last_used_at=timezone.now()
    )
    if moved != 1:
        raise refused
    return passkey
