"""Announcing the end of access when an account is saved, and giving a new practice its
first messaging agreement.

Sign-out ends the access of one session (``accounts.views.signout``); deactivation or a
change of the authentication secret ends it for every session, whether an instance is
saved (the receivers below) or accounts are changed in bulk (``UserQuerySet.update`` and
``bulk_update``, which Django sends no signals for). Each calls
``accounts.access.end_access``, which sends ``access_ended`` after the commit.

A practice is created with the default messaging agreement as its first version
(``accounts.agreement``), however it is made (``seed_demo``, the operator's tools, the
admin, the tests), so that its clients always have a current version to accept.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.access import end_access
from accounts.agreement import give_default_agreement
from accounts.models import Practice, User, lost_access, normalise_email
from audit.log import record
from protocol.audit import AuditKind


@receiver(pre_save, sender=User)
def remember_access(sender: type[User], instance: User, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (
        update_fields is not None and not {"is_active", "password"} & set(update_fields)
    ):
        # New, or a save that cannot end access (sign-in's last_login): no query needed.
        instance._access_before = None  # type: ignore[attr-defined]
        return
    before = User.objects.filter(pk=instance.pk).values("is_active", "password").first()
    instance._access_before = before  # type: ignore[attr-defined]


@receiver(post_save, sender=User)
def end_access_when_it_ends(sender: type[User], instance: User, **kwargs: Any) -> None:
    before = getattr(instance, "_access_before", None)
    if before is None:
        return
    if lost_access(before, instance):
        end_access([instance.pk])


@receiver(post_save, sender=Practice)
def give_a_new_practice_its_agreement(
    sender: type[Practice], instance: Practice, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        give_default_agreement(instance)


# --- the audit log (audit.log): signing in and out -------------------------------


@receiver(user_logged_in)
def audit_signin(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    record(AuditKind.SIGNIN, request=request, actor=user, subject=f"user:{user.pk}")


@receiver(user_logged_out)
def audit_signout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if isinstance(user, User):
        record(AuditKind.SIGNOUT, request=request, actor=user, subject=f"user:{user.pk}")


@receiver(user_login_failed)
def audit_failed_signin(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A wrong password, or an account that does not exist or is deactivated: the email as
    typed, and the practice when the account exists."""
    email = normalise_email(str(credentials.get("username") or ""))
    account = User.objects.filter(email=email).only("pk", "email", "practice_id").first()
    record(
        AuditKind.SIGNIN_FAILED,
        request=request,
        actor_email=email,
        practice_id=None if account is None else account.practice_id,
        subject="" if account is None else f"user:{account.pk}",
        details={"reason": "password"},
    )
