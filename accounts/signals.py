"""Announcing the end of access when an account is saved.

Sign-out ends the access of one session (``accounts.views.signout``); deactivation or a
change of the authentication secret ends it for every session, whether an instance is
saved (the receivers below) or accounts are changed in bulk (``UserQuerySet.update`` and
``bulk_update``, which Django sends no signals for). Each calls
``accounts.access.end_access``, which sends ``access_ended`` after the commit.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.access import end_access
from accounts.models import User, lost_access


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
