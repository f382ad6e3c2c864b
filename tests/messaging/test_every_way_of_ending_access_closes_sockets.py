"""Deactivation and a new authentication secret close the user's sockets by whatever path
they are written: a saved instance, a queryset update, a bulk update, or the operator's
command. Django sends no signals for the bulk paths, so the account queryset does it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError, call_command

from accounts.models import User
from protocol.errors import CloseCode
from tests.messaging.conftest import Connect
from tests.personas import Practice5

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED = {"type": "websocket.close", "code": CloseCode.SESSION_ENDED}


def by_queryset_update(user_id: int) -> None:
    User.objects.filter(pk=user_id).update(is_active=False)


def by_queryset_deactivate(user_id: int) -> None:
    User.objects.filter(pk=user_id).deactivate()


def by_bulk_update(user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    user.is_active = False
    User.objects.bulk_update([user], ["is_active"])


def by_new_secret_in_bulk(user_id: int) -> None:
    User.objects.filter(pk=user_id).update(password=make_password("a new secret"))


def by_command(user_id: int) -> None:
    call_command("deactivate_user", User.objects.get(pk=user_id).email.upper())


ENDINGS: dict[str, Callable[[int], None]] = {
    "queryset update(is_active=False)": by_queryset_update,
    "queryset deactivate()": by_queryset_deactivate,
    "bulk_update of is_active": by_bulk_update,
    "queryset update(password=...)": by_new_secret_in_bulk,
    "confide deactivate_user": by_command,
}


@pytest.mark.parametrize("end_access", ENDINGS.values(), ids=ENDINGS.keys())
async def test_ending_access_in_bulk_closes_every_socket_of_the_user(
    world: Practice5, connect: Connect, end_access: Callable[[int], None]
) -> None:
    laptop = await connect(world.client)
    phone = await connect(world.client)
    theo = await connect(world.therapist)

    await database_sync_to_async(end_access)(world.client.id)

    assert await laptop.communicator.receive_output(timeout=2) == CLOSED
    assert await phone.communicator.receive_output(timeout=2) == CLOSED
    assert (await theo.request({"type": "ping"}))["type"] == "pong"


async def test_a_bulk_update_that_does_not_end_access_closes_nothing(
    world: Practice5, connect: Connect
) -> None:
    clara = await connect(world.client)

    def rename() -> None:
        User.objects.filter(pk=world.client.id).update(display_name="Clara B.")
        User.objects.filter(pk=world.client.id).update(is_active=True)

    await database_sync_to_async(rename)()

    assert (await clara.request({"type": "ping"}))["type"] == "pong"


async def test_the_command_refuses_an_unknown_email_and_changes_nothing(
    world: Practice5,
) -> None:
    def deactivate_unknown() -> None:
        call_command("deactivate_user", world.client.user.email, "nobody@practice.invalid")

    with pytest.raises(CommandError, match="nobody@practice.invalid"):
        await database_sync_to_async(deactivate_unknown)()

    still_active = await database_sync_to_async(
        lambda: User.objects.filter(pk=world.client.id, is_active=True).exists()
    )()
    assert still_active
