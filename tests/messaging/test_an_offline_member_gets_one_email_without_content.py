"""Email notifications (messaging.services.notifications): storing a message schedules a job
in the same transaction; when it runs, a recipient with no live socket gets one email that
says only that a secure message waits: none when they read it, are online, turned them
off or were deactivated; one per conversation until they read it; one an hour per person.
The email carries no content, no name and no practice, anywhere in it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from messaging.models import Membership, Message, Notice
from messaging.services import notifications
from messaging.services.writer import store_batch
from tests.messaging.conftest import send_request
from tests.personas import Chat, Person, Practice5, make_chat

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "I'm feeling really anxious tonight"


@pytest.fixture(autouse=True)
def fresh_schedule() -> None:
    notifications._waiting.clear()


def write(chat: Chat, sender: Person, text: str = TEXT) -> int:
    """``sender`` stores a message through the writer; its seq."""
    [stored] = store_batch([send_request(chat, sender, text)])
    assert not isinstance(stored, Exception), stored
    seq: int = stored.seq
    return seq


def age_messages(chat: Chat, seconds: int = 601) -> None:
    Message.objects.filter(conversation_id=chat.id).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def jobs() -> list[Any]:
    """The items of every job waiting, in the order made."""
    return [
        row.args_kwargs["args"][0]
        for row in DBTaskResult.objects.filter(task_path__endswith="notify").order_by("enqueued_at")
    ]


def run(chat: Chat, person: Person) -> None:
    notifications.notify.call([[person.id, str(chat.id), 0]])


def test_a_message_schedules_one_job_for_its_recipient_in_its_transaction(
    world: Practice5,
) -> None:
    write(world.chat, world.client)
    write(world.chat, world.client, "and another")

    assert jobs() == [[[world.therapist.id, str(world.chat.id), 0]]]
    job = DBTaskResult.objects.get()
    assert job.run_after >= timezone.now() + timedelta(seconds=590)


def test_an_offline_therapist_gets_one_email_that_says_nothing(world: Practice5) -> None:
    write(world.chat, world.client)
    age_messages(world.chat)

    run(world.chat, world.therapist)

    [email] = mail.outbox
    assert email.to == [world.therapist.user.email]
    assert email.subject == notifications.SUBJECT
    whole = email.message().as_string()
    for secret in (
        TEXT,
        "anxious",
        world.client.user.display_name,
        world.therapist.user.display_name,
        world.client.user.email,
        world.therapist.user.practice.name,
    ):
        assert secret not in whole, secret
    assert "secure message" in whole
    run(world.chat, world.therapist)
    assert len(mail.outbox) == 1, "one per conversation until it is read"


def test_no_email_before_the_delay_but_a_job_for_when_it_ends(world: Practice5) -> None:
    write(world.chat, world.client)
    DBTaskResult.objects.all().delete()

    run(world.chat, world.therapist)

    assert mail.outbox == []
    assert jobs() == [[[world.therapist.id, str(world.chat.id), 0]]]


def test_none_once_read_and_one_again_for_a_later_message(world: Practice5) -> None:
    seq = write(world.chat, world.client)
    age_messages(world.chat)
    run(world.chat, world.therapist)
    assert len(mail.outbox) == 1
    Membership.objects.filter(user_id=world.therapist.id, conversation_id=world.chat.id).update(
        last_read_seq=seq
    )
    Notice.objects.update(sent_at=timezone.now() - timedelta(hours=2))

    write(world.chat, world.client, "one more")
    age_messages(world.chat)
    run(world.chat, world.therapist)

    assert len(mail.outbox) == 2


def test_none_for_a_read_message(world: Practice5) -> None:
    seq = write(world.chat, world.client)
    age_messages(world.chat)
    Membership.objects.filter(user_id=world.therapist.id, conversation_id=world.chat.id).update(
        last_read_seq=seq
    )

    run(world.chat, world.therapist)

    assert mail.outbox == []


def test_at_most_one_an_hour_per_person_the_next_waits(world: Practice5) -> None:
    write(world.chat, world.client)
    age_messages(world.chat)
    run(world.chat, world.therapist)
    # A second conversation of Theo's, with Oscar.
    second = make_chat(world.therapist.user.practice, world.therapist, world.other_client)
    write(second, world.other_client)
    age_messages(second)
    DBTaskResult.objects.all().delete()

    run(second, world.therapist)

    assert len(mail.outbox) == 1
    [[item]] = jobs()
    assert item == [world.therapist.id, str(second.id), 0]
    later = DBTaskResult.objects.get().run_after
    assert timedelta(minutes=59) < later - timezone.now() <= timedelta(hours=1)


@pytest.mark.parametrize("change", ["off", "deactivated", "online"])
def test_none_when_off_deactivated_or_online(
    world: Practice5, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(world.chat, world.client)
    age_messages(world.chat)
    if change == "off":
        User.objects.filter(pk=world.therapist.id).update(email_notifications=False)
    elif change == "deactivated":
        User.objects.filter(pk=world.therapist.id).deactivate()
    else:
        monkeypatch.setattr(notifications, "has_live_socket", lambda user_id: True)

    run(world.chat, world.therapist)

    assert mail.outbox == []


@override_settings(EMAIL_BACKEND=f"{__name__}.Refusing")
def test_a_refused_email_is_tried_again_later_and_nothing_is_recorded(world: Practice5) -> None:
    write(world.chat, world.client)
    age_messages(world.chat)
    DBTaskResult.objects.all().delete()

    run(world.chat, world.therapist)

    assert not Notice.objects.exists()
    [job] = DBTaskResult.objects.all()
    assert job.args_kwargs["args"][0] == [[world.therapist.id, str(world.chat.id), 1]]
    assert job.run_after > timezone.now() + timedelta(seconds=20)


class Refusing:
    """An email backend whose server refuses every message."""

    def __init__(self, **_: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        import smtplib

        raise smtplib.SMTPDataError(451, b"try again later")


def test_the_sender_gets_no_email_for_their_own_message(world: Practice5) -> None:
    write(world.chat, world.client)

    assert all(item[0] != world.client.id for job in jobs() for item in job)
    assert uuid.UUID(jobs()[0][0][1]) == world.chat.id


def test_a_job_that_cannot_be_made_costs_the_messages_nothing(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the jobs table is gone")

    monkeypatch.setattr(type(notifications.notify), "enqueue", broken)

    seq = write(world.chat, world.client)

    assert Message.objects.filter(conversation_id=world.chat.id, seq=seq).exists()
    assert jobs() == []
    assert notifications._waiting == {}


def test_one_items_failure_costs_the_others_nothing_and_is_tried_again(
    world: Practice5, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis gone for one check, say: that item goes into a new job; the next is sent."""
    second = make_chat(world.other_therapist.user.practice, world.other_therapist, world.client)
    write(world.chat, world.client)
    write(second, world.client)
    age_messages(world.chat)
    age_messages(second)
    DBTaskResult.objects.all().delete()

    def flaky(user_id: int) -> bool:
        if user_id == world.therapist.id:
            raise ConnectionError("Redis is not answering")
        return False

    monkeypatch.setattr(notifications, "has_live_socket", flaky)

    notifications.notify.call(
        [[world.therapist.id, str(world.chat.id), 0], [world.other_therapist.id, str(second.id), 0]]
    )

    assert [email.to for email in mail.outbox] == [[world.other_therapist.user.email]]
    assert jobs() == [[[world.therapist.id, str(world.chat.id), 1]]]


def test_a_batch_rolled_back_schedules_its_job_again(world: Practice5) -> None:
    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        write(world.chat, world.client)
        raise RolledBack

    assert notifications._waiting == {}
    assert jobs() == []
    write(world.chat, world.client)
    assert len(jobs()) == 1


@override_settings(DEFAULT_FROM_EMAIL="Confide <no-reply@portal.example.org>")
def test_the_message_id_names_the_senders_domain_not_this_machine(world: Practice5) -> None:
    write(world.chat, world.client)
    age_messages(world.chat)

    run(world.chat, world.therapist)

    [email] = mail.outbox
    assert email.extra_headers["Message-ID"].endswith("@portal.example.org>")


def test_finished_jobs_are_deleted_after_an_hour(world: Practice5) -> None:
    write(world.chat, world.client)
    DBTaskResult.objects.update(
        status="SUCCESSFUL", finished_at=timezone.now() - timedelta(hours=2)
    )
    write(
        second_chat := make_chat(
            world.therapist.user.practice, world.therapist, world.other_client
        ),
        world.other_client,
    )
    assert DBTaskResult.objects.count() == 2

    run(second_chat, world.therapist)

    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 0


def test_an_abandoned_job_is_put_back_when_a_worker_starts(world: Practice5) -> None:
    from portal.worker import requeue_abandoned

    write(world.chat, world.client)
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now() - timedelta(hours=2))
    write(
        make_chat(world.therapist.user.practice, world.therapist, world.other_client),
        world.other_client,
    )
    DBTaskResult.objects.filter(status="READY").update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=5)
    )

    assert requeue_abandoned() == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert DBTaskResult.objects.filter(status="RUNNING").count() == 1
