"""Staff accounts through one-time setup links: the first admin of a practice (``confide
create_practice``), and the therapists and admins an admin adds (the admin console).

The mechanism is that of a client's invitation: a random token shown once, in the link's
fragment (so it reaches no access log), kept only as its SHA-256, single use, expiring
after ``CONFIDE_SETUP_LINK_HOURS``, revocable. The link names the role and the email; the
new member chooses their password and makes their keys in their own browser, and the
server stores only the public identity and the wrapped bundles, as at any sign-up.

A link is ``pending`` until it is ``used``, ``expired`` or ``revoked``; anything but a
pending link opens nothing, with one answer whatever the reason (``setup_link_invalid``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.factors import STAFF_ROLES
from accounts.models import Practice, SetupLink, User, normalise_email
from accounts.signup import AccountKeys, check_keys
from accounts.tokens import hash_token, new_token
from audit.log import record
from protocol.audit import AuditKind
from protocol.errors import BadRequestError, EmailTakenError, NotFoundError, SetupLinkInvalidError

LinkState = Literal["pending", "used", "expired", "revoked"]

# Ids are 64-bit signed integers in every database the server runs on.
_LARGEST_ID = 2**63 - 1


@dataclass(frozen=True)
class NewSetupLink:
    token: str
    link: SetupLink

    @property
    def path(self) -> str:
        return f"/setup#{self.token}"


def create_setup_link(
    practice: Practice,
    role: str,
    email: str,
    display_name: str,
    created_by: User | None = None,
) -> NewSetupLink:
    """A new link for a staff account of ``practice``. An email that already has an account
    is ``email_taken``; an earlier pending link for the same email in the practice is
    revoked, so that one link at a time makes that account."""
    if role not in STAFF_ROLES:
        raise ValueError(f"A setup link makes a therapist or an admin, not {role!r}.")
    email = normalise_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise BadRequestError(f"{email!r} is not an email address.") from None
    # Only an account of this practice is named: whether an email has an account in another
    # practice of the server is not this practice's admins' to learn (a link for it is made
    # and refuses at sign-up as any unusable link does).
    if User.objects.filter(email=email, practice=practice).exists():
        raise EmailTakenError(f"{email} already has an account in this practice.")
    token = new_token()
    now = timezone.now()
    with transaction.atomic():
        SetupLink.objects.filter(
            practice=practice,
            email=email,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(revoked_at=now)
        link = SetupLink.objects.create(
            practice=practice,
            role=role,
            email=email,
            display_name=display_name,
            token_hash=hash_token(token),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(hours=settings.CONFIDE_SETUP_LINK_HOURS),
        )
    return NewSetupLink(token, link)


def _invalid() -> SetupLinkInvalidError:
    """The one answer for a link that opens nothing, whatever the reason."""
    return SetupLinkInvalidError(
        "This setup link is not valid: it may have expired, been used or been revoked. "
        "Ask your practice's admin for a new one."
    )


def state_of(link: SetupLink) -> LinkState:
    if link.revoked_at is not None:
        return "revoked"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= timezone.now():
        return "expired"
    return "pending"


def open_setup_link(token: str, *, lock: bool = False) -> SetupLink:
    """The pending link of ``token``; any other is ``setup_link_invalid``."""
    query = SetupLink.objects.select_related("practice", "created_by")
    if lock:
        query = query.select_for_update(of=("self",))
    link = query.filter(token_hash=hash_token(token)).first()
    # A link made by an admin who was deactivated since opens nothing: whoever took over an
    # admin's account keeps no way back in through the links they made.
    maker_gone = link is not None and link.created_by is not None and not link.created_by.is_active
    if link is None or maker_gone or state_of(link) != "pending":
        raise _invalid()
    return link


def accept_setup_link(token: str, display_name: str, keys: AccountKeys) -> User:
    """Makes the link's account with the keys its browser made, once. The key material is
    checked before the link, so a malformed request uses up nothing."""
    check_keys(keys)
    try:
        with transaction.atomic():
            link = open_setup_link(token, lock=True)
            existing = User.objects.filter(email=link.email).first()
            if existing is not None and existing.practice_id == link.practice_id:
                raise EmailTakenError(
                    f"{link.email} already has an account; sign in, or ask your practice's "
                    "admin for a link for another email."
                )
            if existing is not None:
                raise _invalid()
            user = User.objects.create_user(
                link.email,
                auth_secret=keys.auth_secret,
                display_name=display_name,
                role=link.role,
                practice=link.practice,
                kdf_salt=keys.salt,
                kdf_opslimit=keys.params.opslimit,
                kdf_memlimit=keys.params.memlimit,
                public_identity=keys.public_identity,
                key_bundle=keys.key_bundle,
                recovery_bundle=keys.recovery_bundle,
            )
            link.used_at = timezone.now()
            link.account = user
            link.save(update_fields=["used_at", "account"])
            record(
                AuditKind.ACCOUNT_CREATED,
                actor=user,
                subject=f"user:{user.pk}",
                details={"role": user.role, "setup_link": link.pk},
            )
    except IntegrityError:
        # Another request took the email at the same moment.
        raise EmailTakenError("This email already has an account.") from None
    return user


def revoke_links_made_by(user: User) -> int:
    """Revokes the pending setup links ``user`` made (when they are deactivated)."""
    return SetupLink.objects.filter(
        created_by=user,
        used_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).update(revoked_at=timezone.now())


def list_setup_links(practice: Practice) -> list[tuple[SetupLink, LinkState]]:
    """The practice's links, newest first (one query)."""
    rows = (
        SetupLink.objects.filter(practice=practice)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )
    return [(link, state_of(link)) for link in rows]


def revoke_setup_link(practice: Practice, link_id: int) -> tuple[SetupLink, LinkState]:
    """Withdraws a pending link of the practice; one that is no longer pending is left as
    it is and answered as it is. Another practice's or an unknown id is ``not_found``."""
    if not 1 <= link_id <= _LARGEST_ID:
        raise NotFoundError("No such setup link.")
    with transaction.atomic():
        link = (
            SetupLink.objects.select_for_update(of=("self",))
            .select_related("created_by")
            .filter(pk=link_id, practice=practice)
            .first()
        )
        if link is None:
            raise NotFoundError("No such setup link.")
        if state_of(link) == "pending":
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
    return link, state_of(link)


__all__ = [
    "NewSetupLink",
    "accept_setup_link",
    "create_setup_link",
    "list_setup_links",
    "open_setup_link",
    "revoke_links_made_by",
    "revoke_setup_link",
    "state_of",
]
