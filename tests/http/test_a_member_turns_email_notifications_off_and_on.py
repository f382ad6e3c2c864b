"""``/api/me/notifications``: each member turns their own email notifications off and on;
a malformed body changes nothing."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.http.conftest import BrowserFor
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

PATH = "/api/me/notifications"


def test_clara_turns_them_off_and_on_and_only_hers_change(
    world: Practice5, browser_for: BrowserFor
) -> None:
    clara = browser_for(world.client)
    assert clara.get(PATH).json() == {"email": True}

    assert clara.post(PATH, {"email": False}).json() == {"email": False}

    assert clara.get(PATH).json() == {"email": False}
    assert not User.objects.get(pk=world.client.id).email_notifications
    assert User.objects.get(pk=world.therapist.id).email_notifications
    assert clara.post(PATH, {"email": True}).json() == {"email": True}
    assert User.objects.get(pk=world.client.id).email_notifications


@pytest.mark.parametrize("body", [{}, {"email": "no"}, {"email": False, "push": True}, []])
def test_a_malformed_body_is_refused_and_changes_nothing(
    world: Practice5, browser_for: BrowserFor, body: object
) -> None:
    clara = browser_for(world.client)

    reply = clara.post(PATH, body)

    assert reply.status == 400
    assert reply.code == "bad_request"
    assert User.objects.get(pk=world.client.id).email_notifications
