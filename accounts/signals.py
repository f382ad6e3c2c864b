"""Closing a user's websockets when their access ends.

Sign-out closes the sockets of that session; deactivation or a change of the
authentication secret closes them all, whether an instance is saved (the signals
below) or accounts are changed in bulk (``UserQuerySet.update`` and ``bulk_update``,
which Django sends no signals for). The event travels through the channel
layer, which may lose it; sockets therefore also re-check their session
(messaging.consumers.SESSION_RECHECK_SECONDS).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from portal.accounts.models import User, access_ended


def sockets_to_close(user_id: int, session_key: str | None = None) -> None:
    """After the current transaction commits, closes the user's sockets."""
    from messaging.services import close_user_sockets

    transaction.on_commit(lambda: async_to_sync(close_user_sockets)(user_id, session_key))


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
def close_sockets_when_access_ends(sender: type[User], instance: User, **kwargs: Any) -> None:
    before = getattr(instance, "_access_before", None)
    if before is None:
        return
    if access_ended(before, instance):
        sockets_to_close(instance.pk)
