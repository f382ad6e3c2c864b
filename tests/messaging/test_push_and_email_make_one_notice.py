"""How Web Push and email combine (messaging.services.notifications): one notice per
person and conversation goes to each of their live push subscriptions and, unless they
turned emails off, by email; once any way got through it counts, and a push that failed
for a while is tried again on its own; when none got through, the whole notice is tried
again later. A subscription of an expired session, or of a deactivated account, gets
nothing. (The push service itself is stood in for here; tests/integration has a real one.)"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from messaging.models import Notice, PushSubscription
from messaging.services import notifications, push
from tests.messaging.test_an_offline_member_gets_one_email_without_content import (
    age_messages,
    write,
)
from tests.personas import Person, Practice5

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class StandIn:
    """``push.send``, answering each call with the next outcome queued (SENT after)."""

    outcomes: list[push.Outcome] = field(default_factory=list)
    sent_to: list[int] = field(default_factory=list)

    def __call__(self, subscription: PushSubscription) -> push.Outcome:
        self.sent_to.append(subscription.pk)
        return self.outcomes.pop(0) if self.outcomes else push.Outcome.SENT


@pytest.fixture
def pushes(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    notifications._waiting.clear()
    stand_in = StandIn()
    monkeypatch.setattr(push, "send", stand_in)
    yield stand_in


def subscribe(person: Person, *, expires_in: timedelta = timedelta(hours=1)) -> PushSubscription:
    session = Session.objects.create(
        session_key=secrets.token_hex(16), session_data="", expire_date=timezone.now() + expires_in
    )
    return PushSubscription.objects.create(
        user_id=person.id,
        session=session,
        endpoint=f"https://fcm.googleapis.com/fcm/send/{secrets.token_hex(8)}",
        p256dh="B" + "A" * 86,
        auth="A" * 22,
    )


def emails_off(person: Person) -> None:
    User.objects.filter(pk=person.id).update(email_notifications=False)


def notify(world: Practice5) -> None:
    notifications.notify.call([[world.therapist.id, str(world.chat.id), 0]])


def waiting(task: str) -> list[Any]:
    return [
        row.args_kwargs["args"][0]
        for row in DBTaskResult.objects.filter(task_path__endswith=task).order_by("enqueued_at")
    ]


def a_message_waits(world: Practice5) -> None:
    write(world.chat, world.client)
    age_messages(world.chat)
    DBTaskResult.objects.all().delete()


def test_each_subscription_is_pushed_once_beside_the_email(
    world: Practice5, pushes: StandIn
) -> None:
    phone, laptop = subscribe(world.therapist), subscribe(world.therapist)
    a_message_waits(world)

    notify(world)
    notify(world)

    assert sorted(pushes.sent_to) == sorted([phone.pk, laptop.pk])
    assert len(mail.outbox) == 1
    assert Notice.objects.get().confirmed


def test_with_emails_off_a_subscription_alone_is_told(world: Practice5, pushes: StandIn) -> None:
    phone = subscribe(world.therapist)
    emails_off(world.therapist)
    a_message_waits(world)

    notify(world)

    assert pushes.sent_to == [phone.pk]
    assert mail.outbox == []


def test_with_emails_off_and_no_subscription_nobody_is_told(
    world: Practice5, pushes: StandIn
) -> None:
    emails_off(world.therapist)
    a_message_waits(world)

    notify(world)

    assert pushes.sent_to == [] and mail.outbox == []
    assert not Notice.objects.exists()


def test_an_expired_session_or_a_deactivated_account_gets_no_push(
    world: Practice5, pushes: StandIn
) -> None:
    subscribe(world.therapist, expires_in=timedelta(seconds=-1))
    emails_off(world.therapist)
    a_message_waits(world)
    notify(world)
    assert pushes.sent_to == []

    subscribe(world.therapist)
    User.objects.filter(pk=world.therapist.id).update(is_active=False)
    notify(world)
    assert pushes.sent_to == []


def test_a_busy_push_beside_a_sent_email_is_tried_again_on_its_own(
    world: Practice5, pushes: StandIn
) -> None:
    phone = subscribe(world.therapist)
    pushes.outcomes = [push.Outcome.RETRY]
    a_message_waits(world)

    notify(world)

    assert len(mail.outbox) == 1
    assert Notice.objects.get().confirmed
    [[item]] = waiting("deliver_again")
    assert item == ["push", phone.pk, world.therapist.id, str(world.chat.id), 1]
    assert waiting("notify") == []

    notifications.deliver_again.call([item])

    assert pushes.sent_to == [phone.pk, phone.pk]
    assert len(mail.outbox) == 1, "the email is not sent again"


def test_when_no_way_got_through_the_whole_notice_is_tried_again(
    world: Practice5, pushes: StandIn
) -> None:
    subscribe(world.therapist)
    emails_off(world.therapist)
    pushes.outcomes = [push.Outcome.RETRY]
    a_message_waits(world)

    notify(world)

    assert not Notice.objects.exists(), "the claim is taken back"
    assert waiting("notify") == [[[world.therapist.id, str(world.chat.id), 1]]]


def test_a_gone_subscription_alone_ends_the_notice_without_a_retry(
    world: Practice5, pushes: StandIn
) -> None:
    subscribe(world.therapist)
    emails_off(world.therapist)
    pushes.outcomes = [push.Outcome.GONE]
    a_message_waits(world)

    notify(world)

    assert not Notice.objects.exists()
    assert waiting("notify") == [] and waiting("deliver_again") == []
