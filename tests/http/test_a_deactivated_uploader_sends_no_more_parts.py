"""Someone whose account was deactivated mid-upload sends no more of it: their session no
longer holds, and nothing more is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.db import connection

from accounts.models import User
from tests.http.attachments import (
    THREE_PARTS,
    begun,
    complete,
    on_disk,
    sealed_file,
    send_part,
)
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db


def test_a_deactivated_uploaders_part_is_refused(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    send_part(clara, attachment["id"], 0, file.parts()[0])
    ada = browser_for(world.admin)
    deactivated = ada.post(f"/api/admin/members/{world.client.id}/active", {"active": False})
    assert deactivated.status == 200, deactivated.content

    reply = send_part(clara, attachment["id"], 1, file.parts()[1])

    assert reply.status == 401
    assert reply.code == "unauthenticated"
    assert sorted(on_disk(attachment_folder, attachment["id"])) == [0]
    assert complete(clara, attachment["id"], file.digest).status == 401


def test_a_deactivated_uploaders_session_that_still_exists_sends_nothing(
    world: Practice5, browser_for: BrowserFor, attachment_folder: Path
) -> None:
    """Deactivated by raw SQL, which ends no session: the session row is still there, and
    the account is refused all the same."""
    clara = browser_for(world.client)
    file = sealed_file(THREE_PARTS)
    attachment = begun(clara, world.chat, len(file.stream))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {User._meta.db_table} SET is_active = %s WHERE id = %s",  # noqa: S608
            [False, world.client.id],
        )
    assert Session.objects.filter(session_key=clara.session_key).exists()

    reply = send_part(clara, attachment["id"], 0, file.parts()[0])

    assert reply.status == 401
    assert on_disk(attachment_folder, attachment["id"]) == {}
