"""Forgot password: the recovery key replaces the password, in any browser (crypto/SPEC.md,
"Recovery"; docs/protocol.md, "Password recovery").

1. ``POST /api/auth/recover/begin`` ``{email}`` gives the account's public identity, its
   recovery bundle, the Argon2id parameters for the new password and a challenge: random,
   single use, valid ``CONFIDE_RECOVERY_CHALLENGE_SECONDS`` (10 minutes), kept in the
   cache under its hash and bound to the account. An email with no account (or a
   deactivated one) gets stand-ins of the same shape, stable for that email, so the
   answer reveals nothing.
2. The client opens the recovery bundle with the recovery key, makes new password
   material and signs it, with the challenge and the email, with the identity's key.
3. ``POST /api/auth/recover/finish`` checks the challenge and the proof, then stores the
   new authentication secret, salt, parameters and key bundle in one transaction. The new
   secret ends every session of the account and closes its sockets (``accounts.signals``
   announces it after the commit, with no session key); the caller is signed in afresh.

Handing out the recovery bundle gives no one a way in: it is wrapped under a key derived
from 256 random bits, which cannot be guessed, and the server learns nothing that opens it.
The server never sees the recovery key; it checks the holder of the identity instead.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import crypto
from accounts.api import api, parse_body
from accounts.counters import give_back, hit
from accounts.models import User, normalise_email
from accounts.views import me_body
from crypto import (
    BUNDLE_SIZE,
    RECOVERY_CHALLENGE_SIZE,
    BundleKind,
    CryptoError,
    FormatError,
    IdentityKeyPair,
    KdfParams,
    PublicIdentity,
    RecoveryClaim,
    SignatureError,
)
from protocol.errors import (
    BadRequestError,
    RateLimitedError,
    RecoveryChallengeInvalidError,
    RecoveryProofInvalidError,
)
from protocol.http import (
    RecoverBeginAnswer,
    RecoverBeginRequest,
    RecoverFinishRequest,
    RecoveryKdfBody,
    UserAnswer,
)

__all__ = [
    "Challenge",
    "finish_recovery",
    "issue_challenge",
    "recover_begin",
    "recover_finish",
    "recovery_source",
]

log = logging.getLogger(__name__)

# The private identity, sign_seed || enc_sk (crypto/SPEC.md, "Identity").
_IDENTITY_SECRET_SIZE = 64
# How long an expired or used challenge is still told apart from an unknown one.
_REMEMBERED = timedelta(hours=1)


def _setting(name: str) -> int:
    value: int = getattr(settings, name)
    return value


def challenge_lifetime() -> timedelta:
    return timedelta(seconds=_setting("CONFIDE_RECOVERY_CHALLENGE_SECONDS"))


def _now() -> datetime:
    return timezone.now()


# --- what begin hands out ------------------------------------------------------------------


@dataclass(frozen=True)
class RecoverySource:
    """What the recovery key opens for an email: the account's (or a stand-in's) public
    identity and recovery bundle; ``user_id`` is None for a stand-in."""

    user_id: int | None
    public_identity: PublicIdentity
    recovery_bundle: bytes


def _stand_in(email: str, purpose: bytes, size: int) -> bytes:
    """``size`` bytes that only the server can compute, stable for ``email``."""
    key = settings.SECRET_KEY.encode()
    output = b""
    block = 0
    while len(output) < size:
        message = b"confide/recovery-stand-in/%s/%d/%s" % (purpose, block, email.encode())
        output += hmac.new(key, message, hashlib.sha512).digest()
        block += 1
    return output[:size]


def recovery_source(email: str) -> RecoverySource:
    """The account of ``email`` (normalised) if it exists and is active, else stand-ins:
    a valid public identity and a well-formed recovery bundle, both stable for the email,
    that no recovery key opens (the stand-in identity's secret exists only here)."""
    user = (
        User.objects.filter(email=email, is_active=True)
        .only("public_identity", "recovery_bundle")
        .first()
    )
    if user is not None:
        return RecoverySource(
            user.pk,
            PublicIdentity.from_bytes(bytes(user.public_identity)),
            bytes(user.recovery_bundle),
        )
    identity = IdentityKeyPair(_stand_in(email, b"identity", _IDENTITY_SECRET_SIZE))
    header = bytes([crypto.BUNDLE_VERSION, BundleKind.RECOVERY])
    body = _stand_in(email, b"bundle", BUNDLE_SIZE - len(header))
    return RecoverySource(None, identity.public, header + body)


# --- challenges ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    """A challenge handed out by ``begin``, as the cache keeps it (never the challenge
    itself, only its hash as the key)."""

    email: str
    user_id: int | None
    expires_at: datetime


def _cache_key(challenge: bytes, what: str) -> str:
    return f"confide:recovery:{what}:{hashlib.sha256(challenge).hexdigest()}"


def issue_challenge(email: str, user_id: int | None) -> tuple[bytes, datetime]:
    """A new random challenge for ``email``'s account, and when it expires."""
    challenge = secrets.token_bytes(RECOVERY_CHALLENGE_SIZE)
    expires_at = _now() + challenge_lifetime()
    remembered = challenge_lifetime() + _REMEMBERED
    cache.set(
        _cache_key(challenge, "challenge"),
        Challenge(email, user_id, expires_at),
        int(remembered.total_seconds()),
    )
    return challenge, expires_at


def read_challenge(challenge: bytes, email: str) -> Challenge:
    """The challenge handed out for ``email``; ``RecoveryChallengeInvalidError`` saying
    why for one that is unknown, expired, used or for another email."""
    kept = cache.get(_cache_key(challenge, "challenge"))
    if not isinstance(kept, Challenge):
        raise RecoveryChallengeInvalidError(
            "This recovery request is unknown or too old. Start again from the beginning."
        )
    if cache.get(_cache_key(challenge, "used")) is not None:
        raise RecoveryChallengeInvalidError(
            "This recovery request was already used. Start again from the beginning."
        )
    if kept.expires_at <= _now():
        minutes = int(challenge_lifetime().total_seconds() // 60)
        raise RecoveryChallengeInvalidError(
            f"This recovery request expired (it is valid for {minutes} minutes). "
            "Start again from the beginning."
        )
    if not hmac.compare_digest(kept.email.encode(), email.encode()):
        raise RecoveryChallengeInvalidError(
            "This recovery request was made for another email. Start again from the beginning."
        )
    return kept


def use_challenge(challenge: bytes) -> None:
    """Marks the challenge used, once: of two requests racing with it, one goes on."""
    remembered = int((challenge_lifetime() + _REMEMBERED).total_seconds())
    if not cache.add(_cache_key(challenge, "used"), True, remembered):
        raise RecoveryChallengeInvalidError(
            "This recovery request was already used. Start again from the beginning."
        )


# --- limits ---------------------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def _count(key: str, limit_setting: str, window_setting: str) -> str:
    """Counts one request on ``key``; over the limit, takes it back and refuses."""
    limit, window = _setting(limit_setting), _setting(window_setting)
    if hit(key, window) > limit:
        give_back(key)
        raise RateLimitedError("Too many recovery attempts; try again later.", retry_after_s=window)
    return key


def count_begin(request: HttpRequest, email: str) -> None:
    """``CONFIDE_RECOVERY_ATTEMPTS`` per address and ``CONFIDE_RECOVERY_EMAIL_ATTEMPTS`` per
    email per window: each begin stores a challenge, so these bound what a stranger makes
    the cache keep; neither gives a guess at anything (the recovery key is not guessable)."""
    address = _count(
        f"confide:recovery:ip:{_client_ip(request)}",
        "CONFIDE_RECOVERY_ATTEMPTS",
        "CONFIDE_RECOVERY_WINDOW_SECONDS",
    )
    email_digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    try:
        _count(
            f"confide:recovery:email:{email_digest}",
            "CONFIDE_RECOVERY_EMAIL_ATTEMPTS",
            "CONFIDE_RECOVERY_EMAIL_WINDOW_SECONDS",
        )
    except RateLimitedError:
        give_back(address)
        raise


def count_finish(request: HttpRequest) -> str:
    """Failed finishes per address, with the begins' limit and window; the key, to give
    back on success."""
    return _count(
        f"confide:recovery:finish-ip:{_client_ip(request)}",
        "CONFIDE_RECOVERY_ATTEMPTS",
        "CONFIDE_RECOVERY_WINDOW_SECONDS",
    )


# --- finishing ------------------------------------------------------------------------------


def _decoded(text: str, what: str) -> bytes:
    try:
        return crypto.b64decode(text)
    except CryptoError as exc:
        raise BadRequestError(f"Invalid request: {what}: {exc}") from None


def claim_of(body: RecoverFinishRequest, challenge: bytes) -> RecoveryClaim:
    """The new material as the proof covers it; ``BadRequestError`` for a malformed field
    (bad encoding, parameters out of bounds, a bundle of the wrong shape or kind)."""
    try:
        params = KdfParams(body.opslimit, body.memlimit)
    except CryptoError as exc:
        raise BadRequestError(f"Invalid request: kdf: {exc}") from None
    claim = RecoveryClaim(
        challenge=challenge,
        email=body.email,
        salt=_decoded(body.salt, "salt"),
        params=params,
        auth_secret=_decoded(body.auth_secret, "auth_secret"),
        key_bundle=_decoded(body.key_bundle, "key_bundle"),
    )
    try:
        crypto.recovery_statement(claim)
    except FormatError as exc:
        raise BadRequestError(f"Invalid request: {exc}") from None
    return claim


def finish_recovery(body: RecoverFinishRequest) -> User:
    """Checks the challenge and the proof, then stores the new password material; returns
    the account. Every refusal leaves the account and the challenge as they were."""
    challenge = _decoded(body.challenge, "challenge")
    email = normalise_email(body.email)
    kept = read_challenge(challenge, email)
    claim = claim_of(body, challenge)
    proof = _decoded(body.proof, "proof")
    source = recovery_source(email)
    try:
        crypto.verify_recovery(source.public_identity, claim, proof)
    except SignatureError:
        raise RecoveryProofInvalidError(
            "The recovery proof does not match this account: the recovery key did not open "
            "its keys. Check the email and the recovery key, then start again."
        ) from None
    except FormatError as exc:
        raise BadRequestError(f"Invalid request: proof: {exc}") from None
    if source.user_id is None or source.user_id != kept.user_id:
        # Unreachable without the stand-in's secret, which never leaves this module.
        raise RecoveryProofInvalidError("The recovery proof does not match this account.")
    use_challenge(challenge)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=source.user_id)
        if not user.is_active or not hmac.compare_digest(
            bytes(user.public_identity), source.public_identity.to_bytes()
        ):
            raise RecoveryProofInvalidError(
                "The account changed while it was being recovered. Start again."
            )
        user.set_password(body.auth_secret)
        user.kdf_salt = claim.salt
        user.kdf_opslimit = claim.params.opslimit
        user.kdf_memlimit = claim.params.memlimit
        user.key_bundle = claim.key_bundle
        # A new password ends every session of the account and closes its sockets, after
        # the commit (accounts.signals); the recovery bundle and the identity stay.
        user.save(
            update_fields=["password", "kdf_salt", "kdf_opslimit", "kdf_memlimit", "key_bundle"]
        )
    log.info("password recovered with the recovery key for user %s", user.pk)
    return user


# --- views ----------------------------------------------------------------------------------


@api(methods=("POST",), auth=False)
def recover_begin(request: HttpRequest) -> RecoverBeginAnswer:
    body = parse_body(request, RecoverBeginRequest)
    email = normalise_email(body.email)
    count_begin(request, email)
    source = recovery_source(email)
    challenge, expires_at = issue_challenge(email, source.user_id)
    defaults = crypto.DEFAULT_KDF_PARAMS
    return RecoverBeginAnswer(
        challenge=crypto.b64encode(challenge),
        public_identity=crypto.b64encode(source.public_identity.to_bytes()),
        recovery_bundle=crypto.b64encode(source.recovery_bundle),
        kdf=RecoveryKdfBody(opslimit=defaults.opslimit, memlimit=defaults.memlimit),
        expires_at=expires_at,
    )


@api(methods=("POST",), auth=False)
def recover_finish(request: HttpRequest) -> UserAnswer:
    body = parse_body(request, RecoverFinishRequest)
    counted = count_finish(request)
    user = finish_recovery(body)
    give_back(counted)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return UserAnswer(user=me_body(user))
