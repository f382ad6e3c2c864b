"""Forgot password: the recovery key replaces the password, in any browser (crypto/SPEC.md,
"Recovery"; docs/protocol.md, "Password recovery").

1. ``POST /api/auth/recover/begin`` ``{email}`` gives the account's public identity, its
   recovery bundle, the Argon2id parameters for the new password and a challenge: single
   use, valid ``CONFIDE_RECOVERY_CHALLENGE_SECONDS`` (10 minutes), bound to the email and
   the account by a tag only the server can make, so that asking for one keeps nothing on
   the server. An email with no account (or a deactivated one) gets stand-ins of the same
   shape, stable for that email, so the answer reveals nothing.
2. The client opens the recovery bundle with the recovery key, makes new password
   material and signs it, with the challenge and the email, with the identity's key.
3. ``POST /api/auth/recover/finish`` checks the challenge and the proof, then stores the
   new authentication secret, salt, parameters and key bundle in one transaction. The new
   secret ends every session of the account and closes its sockets (``accounts.signals``
   announces it after the commit, with no session key); the caller is signed in afresh.
   For an account with a second factor nothing is stored yet: the answer is
   ``second_factor_required``, as for a sign-in, and the recovery is stored when the second
   step passes (``accounts.second_factor``).

Handing out the recovery bundle gives no one a way in: it is wrapped under a key derived
from 256 random bits, which cannot be guessed, and the server learns nothing that opens it.
The server never sees the recovery key; it checks the holder of the identity instead.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

import crypto
from accounts.api import api, parse_body
from accounts.counters import give_back, hit
from accounts.factors import methods_of, pending
from accounts.limits import client_network, counter_key, remember_place, sets_known_browser
from accounts.models import User, normalise_email
from accounts.views import end_session, me_body
from audit.log import record
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
from protocol.audit import AuditKind
from protocol.errors import (
    BadRequestError,
    RateLimitedError,
    RecoveryChallengeInvalidError,
    RecoveryProofInvalidError,
)
from protocol.factors import SecondFactorRequiredAnswer
from protocol.http import (
    RecoverBeginAnswer,
    RecoverBeginRequest,
    RecoverFinishRequest,
    RecoveryKdfBody,
    UserAnswer,
)

__all__ = [
    "Challenge",
    "Recovered",
    "apply_recovered",
    "check_recovery",
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
    that no recovery key opens (the stand-in identity's secret exists only here). The
    stand-ins are made for every email, so that the time of the answer does not tell
    whether the email has an account."""
    identity = IdentityKeyPair(_stand_in(email, b"identity", _IDENTITY_SECRET_SIZE))
    header = bytes([crypto.BUNDLE_VERSION, BundleKind.RECOVERY])
    stand_in = RecoverySource(
        None, identity.public, header + _stand_in(email, b"bundle", BUNDLE_SIZE - len(header))
    )
    user = (
        User.objects.filter(email=email, is_active=True)
        .only("public_identity", "recovery_bundle")
        .first()
    )
    if user is None:
        return stand_in
    return RecoverySource(
        user.pk,
        PublicIdentity.from_bytes(bytes(user.public_identity)),
        bytes(user.recovery_bundle),
    )


# --- challenges ----------------------------------------------------------------------------
#
# A challenge keeps nothing on the server until it is used: it carries its own expiry and a
# tag (HMAC under ``SECRET_KEY``) over that expiry, a random nonce, the email and the account
# it was handed out for. A stranger asking for challenges for someone's email makes the
# server keep nothing and takes nothing from the owner. Only a used challenge is remembered
# (a mark in the cache, made after its proof was checked) so that it works once.

_EXPIRY_SIZE = 8
_NONCE_SIZE = 8
_TAG_SIZE = RECOVERY_CHALLENGE_SIZE - _EXPIRY_SIZE - _NONCE_SIZE


@dataclass(frozen=True)
class Challenge:
    """A challenge as ``begin`` handed it out: for whom, and until when."""

    email: str
    user_id: int | None
    expires_at: datetime


def _tag(head: bytes, email: str, user_id: int | None) -> bytes:
    message = b"confide/recovery-challenge/%s/%d/%s" % (head, user_id or 0, email.encode())
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()[:_TAG_SIZE]


def issue_challenge(email: str, user_id: int | None) -> tuple[bytes, datetime]:
    """A new challenge for ``email``'s account, and when it expires (to the second)."""
    expires_at = (_now() + challenge_lifetime()).replace(microsecond=0)
    head = int(expires_at.timestamp()).to_bytes(_EXPIRY_SIZE, "big")
    head += secrets.token_bytes(_NONCE_SIZE)
    return head + _tag(head, email, user_id), expires_at


def _used_key(challenge: bytes) -> str:
    return f"confide:recovery:used:{hashlib.sha256(challenge).hexdigest()}"


def read_challenge(challenge: bytes, email: str, user_id: int | None) -> Challenge:
    """The challenge handed out for ``email``, whose account is ``user_id`` (None: none);
    ``RecoveryChallengeInvalidError`` saying why for one that was never handed out (or for
    another email or account), expired or used."""
    head = challenge[: _EXPIRY_SIZE + _NONCE_SIZE]
    if len(challenge) != RECOVERY_CHALLENGE_SIZE or not hmac.compare_digest(
        challenge[len(head) :], _tag(head, email, user_id)
    ):
        raise RecoveryChallengeInvalidError(
            "This recovery request is unknown, or was made for another email. Start again "
            "from the beginning."
        )
    expires_at = datetime.fromtimestamp(int.from_bytes(head[:_EXPIRY_SIZE], "big"), UTC)
    if cache.get(_used_key(challenge)) is not None:
        raise RecoveryChallengeInvalidError(
            "This recovery request was already used. Start again from the beginning."
        )
    if expires_at <= _now():
        minutes = int(challenge_lifetime().total_seconds() // 60)
        raise RecoveryChallengeInvalidError(
            f"This recovery request expired (it is valid for {minutes} minutes). "
            "Start again from the beginning."
        )
    return Challenge(email, user_id, expires_at)


def use_challenge(challenge: bytes, kept: Challenge) -> None:
    """Marks the challenge used, once: of two requests racing with it, one goes on. The
    mark outlives the challenge's expiry, after which the expiry refuses it anyway."""
    remembered = max(1, int((kept.expires_at - _now() + _REMEMBERED).total_seconds()))
    if not cache.add(_used_key(challenge), True, remembered):
        raise RecoveryChallengeInvalidError(
            "This recovery request was already used. Start again from the beginning."
        )


# --- limits ---------------------------------------------------------------------------------


def _count(request: HttpRequest, kind: str) -> str:
    """Counts one request of ``kind`` from the request's network (an IPv4 address or an
    IPv6 /64, as for sign-in); over ``CONFIDE_RECOVERY_ATTEMPTS`` per
    ``CONFIDE_RECOVERY_WINDOW_SECONDS``, takes it back and refuses."""
    key = counter_key(kind, client_network(request))
    limit = _setting("CONFIDE_RECOVERY_ATTEMPTS")
    window = _setting("CONFIDE_RECOVERY_WINDOW_SECONDS")
    if hit(key, window) > limit:
        give_back(key)
        raise RateLimitedError("Too many recovery attempts; try again later.", retry_after_s=window)
    return key


def count_begin(request: HttpRequest) -> None:
    """Begins per network. There is no limit per email: a begin keeps nothing and gives a
    guess at nothing (the recovery key is not guessable), and a limit per email would let
    anyone who knows an email stop its owner from recovering."""
    _count(request, "recovery-begin")


def count_finish(request: HttpRequest) -> str:
    """Failed finishes per network, with the begins' limit and window; the key, to give
    back on success."""
    return _count(request, "recovery-finish")


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


@dataclass(frozen=True)
class Recovered:
    """New password material whose proof was checked, not yet stored: what an account
    with a second factor keeps waiting (``accounts.factors.pending``) until it passes.
    The authentication secret is kept hashed, as the account will keep it."""

    user_id: int
    public_identity: bytes = field(repr=False)
    password: str = field(repr=False)
    salt: bytes = field(repr=False)
    opslimit: int
    memlimit: int
    key_bundle: bytes = field(repr=False)

    def to_session(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "public_identity": crypto.b64encode(self.public_identity),
            "password": self.password,
            "salt": crypto.b64encode(self.salt),
            "opslimit": self.opslimit,
            "memlimit": self.memlimit,
            "key_bundle": crypto.b64encode(self.key_bundle),
        }

    @classmethod
    def from_session(cls, kept: dict[str, object]) -> Recovered:
        text = {name: str(kept[name]) for name in ("public_identity", "salt", "key_bundle")}
        return cls(
            user_id=int(str(kept["user_id"])),
            public_identity=crypto.b64decode(text["public_identity"]),
            password=str(kept["password"]),
            salt=crypto.b64decode(text["salt"]),
            opslimit=int(str(kept["opslimit"])),
            memlimit=int(str(kept["memlimit"])),
            key_bundle=crypto.b64decode(text["key_bundle"]),
        )


def check_recovery(body: RecoverFinishRequest) -> Recovered:
    """Checks the challenge and the proof, and uses the challenge; the account is not
    touched. Every refusal leaves the challenge as it was."""
    challenge = _decoded(body.challenge, "challenge")
    email = normalise_email(body.email)
    source = recovery_source(email)
    kept = read_challenge(challenge, email, source.user_id)
    claim = claim_of(body, challenge)
    proof = _decoded(body.proof, "proof")
    try:
        crypto.verify_recovery(source.public_identity, claim, proof)
    except SignatureError:
        raise RecoveryProofInvalidError(
            "The recovery proof does not match this account: the recovery key did not open "
            "its keys. Check the email and the recovery key, then start again."
        ) from None
    except FormatError as exc:
        raise BadRequestError(f"Invalid request: proof: {exc}") from None
    if source.user_id is None:
        # Unreachable without the stand-in's secret, which never leaves this module.
        raise RecoveryProofInvalidError("The recovery proof does not match this account.")
    use_challenge(challenge, kept)
    return Recovered(
        user_id=source.user_id,
        public_identity=source.public_identity.to_bytes(),
        password=make_password(body.auth_secret),
        salt=claim.salt,
        opslimit=claim.params.opslimit,
        memlimit=claim.params.memlimit,
        key_bundle=claim.key_bundle,
    )


def apply_recovered(recovered: Recovered) -> User:
    """Stores the checked material, in one transaction, if the account is still active
    with the same identity; returns the account."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=recovered.user_id)
        if not user.is_active or not hmac.compare_digest(
            bytes(user.public_identity), recovered.public_identity
        ):
            raise RecoveryProofInvalidError(
                "The account changed while it was being recovered. Start again."
            )
        user.password = recovered.password
        user.kdf_salt = recovered.salt
        user.kdf_opslimit = recovered.opslimit
        user.kdf_memlimit = recovered.memlimit
        user.key_bundle = recovered.key_bundle
        # A new password ends every session of the account and closes its sockets, after
        # the commit (accounts.signals); the recovery bundle and the identity stay.
        user.save(
            update_fields=["password", "kdf_salt", "kdf_opslimit", "kdf_memlimit", "key_bundle"]
        )
        record(AuditKind.PASSWORD_RECOVERED, actor=user, subject=f"user:{user.pk}")
    log.info("password recovered with the recovery key for user %s", user.pk)
    return user


def finish_recovery(body: RecoverFinishRequest) -> User:
    """Checks and stores a recovery at once (an account without a second factor)."""
    return apply_recovered(check_recovery(body))


# --- views ----------------------------------------------------------------------------------


@api(methods=("POST",), auth=False)
def recover_begin(request: HttpRequest) -> RecoverBeginAnswer:
    body = parse_body(request, RecoverBeginRequest)
    email = normalise_email(body.email)
    count_begin(request)
    source = recovery_source(email)
    challenge, expires_at = issue_challenge(email, source.user_id)
    defaults = crypto.DEFAULT_KDF_PARAMS
    return RecoverBeginAnswer(
        challenge=crypto.b64encode(challenge),
        # The keys only: a stand-in's are as random as any account's, while a whole
        # identity's version and time would set the two apart.
        keys=crypto.b64encode(crypto.identity_keys(source.public_identity)),
        recovery_bundle=crypto.b64encode(source.recovery_bundle),
        kdf=RecoveryKdfBody(opslimit=defaults.opslimit, memlimit=defaults.memlimit),
        expires_at=expires_at,
    )


@sets_known_browser
@api(methods=("POST",), auth=False)
def recover_finish(request: HttpRequest) -> UserAnswer | SecondFactorRequiredAnswer:
    """Stores the new password and signs in; for an account with a second factor, the
    recovery waits (unstored) for the second step of a sign-in,
    ``POST /api/auth/signin/second-factor``, as a sign-in with the password would: the
    recovery key stands for the password, never for the second factor."""
    body = parse_body(request, RecoverFinishRequest)
    counted = count_finish(request)
    recovered = check_recovery(body)
    give_back(counted)
    user = User.objects.get(pk=recovered.user_id)
    methods = methods_of(user)
    if methods:
        end_session(request)
        pending.begin(request, user, held=[], recovery=recovered.to_session())
        return SecondFactorRequiredAnswer(methods=methods, expires_in_s=pending.PENDING_SECONDS)
    user = apply_recovered(recovered)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    remember_place(request, user)
    return UserAnswer(user=me_body(user))
