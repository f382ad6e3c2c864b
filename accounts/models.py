"""Practices and the people in them.

An account holds only public key material and ciphertext: the signed public
identity, and the private keys wrapped under the password-derived key and
under the recovery key. The server can check the public identity's
signature (crypto.PublicIdentity) but can open neither bundle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models, transaction
from django.utils import timezone

from accounts.access import end_access
from crypto import SignUpMaterial, b64encode

# What a practice shows its clients until its admin says otherwise (DESIGN.md section 6).
DEFAULT_CRISIS_LINES: tuple[tuple[str, str], ...] = (
    ("Suicide & Crisis Lifeline (call or text)", "988"),
    ("Emergency", "911"),
)
DEFAULT_REPLY_PROMISE = "Usually answered within two business days."
# California keeps a psychologist's records seven years after discharge (Business and
# Professions Code 2919); HIPAA six years for the practice's own documentation.
DEFAULT_RETENTION_YEARS = 7


def default_crisis_lines() -> list[dict[str, str]]:
    return [{"label": label, "number": number} for label, number in DEFAULT_CRISIS_LINES]


class Practice(models.Model):
    """A therapy practice: the unit that owns therapists, clients and policy texts.

    Its settings are shown to its clients as they are (never message content): the crisis
    lines beside every conversation, the reply-time promise under the composer.
    """

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # An IANA name (``zoneinfo``): the practice's office hours and dates are in it.
    time_zone = models.CharField(max_length=64, default="UTC")
    # [{"label": str, "number": str}, ...], shown in this order.
    crisis_lines = models.JSONField(default=default_crisis_lines)
    reply_promise = models.CharField(max_length=300, default=DEFAULT_REPLY_PROMISE)
    # Years a discharged conversation is kept before it is erased (docs/records.md).
    retention_years = models.PositiveSmallIntegerField(default=DEFAULT_RETENTION_YEARS)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    THERAPIST = "therapist", "Therapist"
    CLIENT = "client", "Client"
    ADMIN = "admin", "Practice admin"


class UserQuerySet(models.QuerySet["User"]):
    """Accounts in bulk. Django sends no signals for ``update`` and ``bulk_update``, so
    when they end access (deactivation, a new authentication secret) it is announced here
    (``accounts.access``), as ``accounts.signals`` does for a saved instance."""

    def deactivate(self) -> int:
        """Deactivates these accounts and ends their access; returns how many."""
        return self.update(is_active=False)

    def update(self, **kwargs: Any) -> int:
        if not ends_access(kwargs):
            return super().update(**kwargs)
        with transaction.atomic(using=self.db):
            user_ids = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            end_access(user_ids)
        return count

    def bulk_update(
        self, objs: Iterable[User], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        fields = list(fields)
        if not {"is_active", "password"} & set(fields):
            return super().bulk_update(objs, fields, batch_size)
        users = list(objs)
        with transaction.atomic(using=self.db):
            before = {
                row["pk"]: row
                for row in self.model._base_manager.using(self.db)
                .filter(pk__in=[user.pk for user in users])
                .values("pk", "is_active", "password")
            }
            count = super().bulk_update(users, fields, batch_size)
            end_access(
                user.pk
                for user in users
                if user.pk in before and lost_access(before[user.pk], user)
            )
        return count


def ends_access(changes: dict[str, Any]) -> bool:
    """Whether an update of these fields can end access (anything but ``is_active=True``
    counts, an expression included)."""
    return "password" in changes or ("is_active" in changes and changes["is_active"] is not True)


def lost_access(before: Mapping[str, Any], user: User) -> bool:
    """Whether a change from ``before`` (its ``is_active`` and ``password``) to ``user``
    deactivated the account or changed its authentication secret."""
    return bool(before["is_active"] and not user.is_active) or before["password"] != user.password


class _AccountMaker(BaseUserManager["User"]):
    def create_user(self, email: str, auth_secret: str | None = None, **fields: Any) -> User:
        """Creates an account; ``auth_secret`` is the client-derived secret, never a password."""
        if not email:
            raise ValueError("An account needs an email address.")
        user = self.model(email=normalise_email(email), **fields)
        if auth_secret is None:
            user.set_unusable_password()
        else:
            user.set_password(auth_secret)
        user.save(using=self._db)
        return user

    def create_account(
        self,
        email: str,
        material: SignUpMaterial,
        *,
        display_name: str,
        role: Role,
        practice: Practice,
    ) -> User:
        """An account with keys made as every client makes them at sign-up: the server
        stores the authentication secret (hashed), the public identity and the wrapped
        bundles, nothing that opens them."""
        return self.create_user(
            email,
            auth_secret=b64encode(material.auth_secret),
            display_name=display_name,
            role=role,
            practice=practice,
            kdf_salt=material.salt,
            kdf_opslimit=material.params.opslimit,
            kdf_memlimit=material.params.memlimit,
            public_identity=material.public_identity.to_bytes(),
            key_bundle=material.key_bundle,
            recovery_bundle=material.recovery_bundle,
        )


# ``User.objects``: querysets of :class:`UserQuerySet`, so that bulk changes that end
# access announce it too.
UserManager = _AccountMaker.from_queryset(UserQuerySet)


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively: the whole address is lower-cased."""
    return email.strip().lower()


class User(AbstractBaseUser):
    """A therapist, client or practice admin, signed in by email."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="members")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    # Argon2id parameters the client needs to re-derive its keys (crypto/SPEC.md).
    kdf_salt = models.BinaryField(max_length=16)
    kdf_opslimit = models.PositiveIntegerField()
    kdf_memlimit = models.PositiveBigIntegerField()
    # Public, signed: the server checks the signature on upload.
    public_identity = models.BinaryField(max_length=1353)
    # Ciphertext: private keys wrapped by the password-derived key / the recovery key.
    key_bundle = models.BinaryField(max_length=106)
    recovery_bundle = models.BinaryField(max_length=106)
    keys_changed_at = models.DateTimeField(default=timezone.now)
    # An email when a message waits and no socket of theirs is open
    # (messaging.services.notifications).
    email_notifications = models.BooleanField(default=True)
    # The assisted recovery that gave the account its current identity (None: the identity
    # made at sign-up), so that others are told who confirmed the change, and when.
    identity_recovery = models.ForeignKey(
        "AssistedRecovery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name", "role"]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>"

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_practice_admin(self) -> bool:
        return self.role == Role.ADMIN


class AgreementAcceptance(models.Model):
    """A client's acceptance of a version of the practice's messaging agreement (DESIGN.md
    section 6): which version, and when. Rows are only ever added; accepting a version
    again keeps the first record."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="agreements")
    version = models.CharField(max_length=32)
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="one_acceptance_per_version"),
        ]

    def __str__(self) -> str:
        return f"Agreement {self.version} accepted by user {self.user_id}"


class AgreementVersion(models.Model):
    """A published version of a practice's messaging agreement (accounts/agreement.py).
    The practice's current version is its latest published. Rows are never edited: a
    changed text is a new version, which every client accepts again."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="agreement_versions"
    )
    version = models.CharField(max_length=32)
    # [{"heading": str, "paragraphs": [str, ...]}, ...] (protocol.http.AgreementSection)
    sections = models.JSONField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "version"], name="one_agreement_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement {self.version} of practice {self.practice_id}"


class SetupLink(models.Model):
    """A one-time, expiring link that makes a practice's staff account: the first admin's
    (``confide create_practice``) or a therapist's or admin's made by an admin. As with a
    client's invitation, only the token's SHA-256 is kept, and the token travels in the
    link's fragment; the account's keys are made in the new member's own browser.

    A link is pending until it is used, expires or is revoked (``accounts.setup``)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="setup_links")
    role = models.CharField(max_length=16, choices=Role.choices)
    email = models.EmailField()
    display_name = models.CharField(max_length=150)
    token_hash = models.CharField(max_length=64, unique=True)
    # None: made by the operator's command.
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    account = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Setup link {self.pk} ({self.role}) of practice {self.practice_id}"


class AssistedRecovery(models.Model):
    """A client's request to recover their account with their therapist's help, having lost
    both the password and the recovery key (crypto/SPEC.md, "Assisted recovery").

    It holds a new identity and its material, made in the client's new browser, exactly as
    at sign-up: the authentication secret only hashed, the private keys only wrapped. It
    changes nothing until a therapist in a conversation with the client confirms it after
    comparing the new identity's number with the client in a session
    (``messaging.services.recoveries``); then the account takes this material. A client has
    at most one pending request: a new one replaces it. A pending request past
    ``expires_at`` can no longer be confirmed.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        DECLINED = "declined", "Declined"
        REPLACED = "replaced", "Replaced by a newer request"

    client = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recoveries")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # The new material, as a sign-up stores it: the authentication secret hashed by the
    # password hasher, the public identity, the private keys wrapped twice.
    password = models.CharField(max_length=128)
    kdf_salt = models.BinaryField(max_length=16)
    kdf_opslimit = models.PositiveIntegerField()
    kdf_memlimit = models.PositiveBigIntegerField()
    public_identity = models.BinaryField(max_length=1353)
    key_bundle = models.BinaryField(max_length=106)
    recovery_bundle = models.BinaryField(max_length=106)
    # Who confirmed or declined it, and when; the identity a confirmation replaced, and the
    # identity succession the confirming therapist signed for it (crypto/SPEC.md), which
    # the client's peers take the replaced identity from.
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    previous_identity = models.BinaryField(max_length=1353, null=True, blank=True)
    succession = models.BinaryField(max_length=2795, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(state="pending"),
                name="one_pending_recovery_per_client",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("requested_at")),
                name="recovery_expires_later",
            ),
        ]

    def __str__(self) -> str:
        return f"Assisted recovery {self.pk} of user {self.client_id} ({self.state})"


class RecoveryEnvelope(models.Model):
    """An epoch key of a conversation, wrapped to a pending recovery's new identity by the
    therapist who is confirming it, kept until the confirmation (which may take several
    requests for a long history) and then moved to the conversation's envelopes. The
    conversation is named by its id only: accounts know nothing of messaging."""

    recovery = models.ForeignKey(
        AssistedRecovery, on_delete=models.CASCADE, related_name="envelopes"
    )
    wrapper = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    conversation_id = models.UUIDField()
    epoch = models.PositiveIntegerField()
    envelope = models.BinaryField(max_length=1381)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recovery", "wrapper", "conversation_id", "epoch"],
                name="one_staged_envelope_per_epoch",
            ),
        ]


# --- second factors (accounts/factors/; docs/threat-model.md, "Second factors") -----------


class TotpDevice(models.Model):
    """An authenticator app of an account (TOTP, RFC 6238: SHA-1, 6 digits, 30 seconds).

    Its secret must be usable by the server, so it is kept sealed under a key derived from
    ``SECRET_KEY`` (``accounts.factors.totp``): a copy of the database alone does not give
    the codes. A device is pending from ``POST /api/2fa/totp/begin`` until a code from it
    confirms it; a pending device is no factor, and a new begin replaces it. An account
    has at most one confirmed device: confirming a new one replaces the old.
    ``last_used_step`` is the time step of the last code taken, so that no code (and no
    earlier one) is taken twice.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="totp_devices")
    sealed_secret = models.BinaryField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(confirmed_at__isnull=False),
                name="one_confirmed_totp_per_user",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(confirmed_at__isnull=True),
                name="one_pending_totp_per_user",
            ),
        ]

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed_at else "pending"
        return f"Authenticator app {self.pk} of user {self.user_id} ({state})"


class RecoveryCode(models.Model):
    """One of an account's ten single-use recovery codes, in place of a second factor that
    is lost. Only the SHA-256 of the code is kept: a code carries 80 random bits, so a
    slow hash would add nothing. ``used_at`` is set once, by the one request that takes it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], name="one_recovery_code_per_digest"),
        ]

    def __str__(self) -> str:
        return f"Recovery code {self.pk} of user {self.user_id}"


class Passkey(models.Model):
    """A WebAuthn credential of an account (a passkey or a security key): its id and
    public key as the authenticator made them, checked with the ``webauthn`` library
    (``accounts.factors.passkeys``). ``sign_count`` is the authenticator's counter, which a
    cloned authenticator would repeat; it stays 0 for those that keep none."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.BinaryField(max_length=1023)
    public_key = models.BinaryField(max_length=2048)
    sign_count = models.PositiveBigIntegerField(default=0)
    # The transports the browser reported ("internal", "usb", "hybrid", ...).
    transports = models.JSONField(default=list)
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential_id"], name="one_account_per_passkey"),
        ]

    def __str__(self) -> str:
        return f"Passkey {self.pk} of user {self.user_id}"


class PinRecord(models.Model):
    """A person's pin record (crypto/SPEC.md, "Pins"): the peer identities they have seen
    and verified, sealed by their own client under a key only their identity derives. The
    server keeps the newest and its counter, and cannot read or make one
    (``accounts.pins``)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="pin_record")
    counter = models.PositiveBigIntegerField()
    record = models.BinaryField()
    written_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Pin record {self.counter} of user {self.user_id}"


class Availability(models.Model):
    """A therapist's availability, as their clients see it (``accounts.availability``):
    office hours as [{"day": 0-6, "start": "HH:MM", "end": "HH:MM"}, ...] in the practice's
    time zone (Monday is 0), the reply time they promise ("" is the practice's), an away
    status from ``away_starts`` (None: from when it was set) until the day ``away_until``,
    with a note, and an automatic reply shown to a client who writes while they are away.

    The therapist's own words, read by the server like the practice's settings; none of it
    is message content."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="availability")
    office_hours = models.JSONField(default=list)
    reply_time = models.CharField(max_length=300, blank=True)
    away_starts = models.DateField(null=True, blank=True)
    away_until = models.DateField(null=True, blank=True)
    away_note = models.CharField(max_length=300, blank=True)
    auto_reply = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Availability of user {self.user_id}"
