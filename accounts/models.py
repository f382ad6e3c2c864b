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
    public_identity = models.BinaryField(max_length=129)
    # Ciphertext: private keys wrapped by the password-derived key / the recovery key.
    key_bundle = models.BinaryField(max_length=106)
    recovery_bundle = models.BinaryField(max_length=106)
    keys_changed_at = models.DateTimeField(default=timezone.now)

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
