"""A session waiting for its second factor opens no socket (it is signed out), and neither
does a therapist or admin who has not enrolled one."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.models import Role
from tests.http.conftest import Browser
from tests.http.two_step import waiting_for_second_factor
from tests.messaging.conftest import communicator
from tests.personas import Practice5, make_person

pytestmark = pytest.mark.django_db(transaction=True)


async def _close_code(cookie: str | None) -> object:
    comm = communicator(cookie)
    connected, _ = await comm.connect()
    assert connected
    output = await comm.receive_output()
    await comm.disconnect()
    return output


async def test_a_session_waiting_for_its_second_factor_is_closed_with_4401(
    world: Practice5,
) -> None:
    browser: Browser = await database_sync_to_async(waiting_for_second_factor)(world.therapist)

    assert await _close_code(browser.session_key) == {"type": "websocket.close", "code": 4401}


async def test_staff_without_a_second_factor_are_closed_with_4403(world: Practice5) -> None:
    wren = await database_sync_to_async(make_person)(
        world.practice, Role.THERAPIST, "Wren", totp=False
    )
    cookie = await database_sync_to_async(wren.session_cookie)()

    assert await _close_code(cookie) == {"type": "websocket.close", "code": 4403}
