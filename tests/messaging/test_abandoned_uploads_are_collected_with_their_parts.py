"""An upload left incomplete ``CONFIDE_ATTACHMENT_ABANDON_HOURS`` after it began is deleted
with its stored parts by the periodic job; a complete one, and one still within its time,
stay. A part already missing from storage does not stop the collection."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from crypto.attachment import attachment_ciphertext_size, attachment_digest
from messaging.models import Attachment, AttachmentPart
from messaging.services.attachments import (
    collect_abandoned,
    complete_upload,
    start_upload,
    store_part,
)
from portal import periodic
from portal.models import DutyRun
from protocol.limits import ATTACHMENT_PART_BYTES
from tests.personas import Person, Practice5, make_practice

pytestmark = pytest.mark.django_db(transaction=True)

HOURS = 24


def upload(person: Person, conversation: uuid.UUID, parts: int, *, send: int) -> uuid.UUID:
    """An upload of ``parts`` parts, of which the first ``send`` are stored."""
    size = attachment_ciphertext_size(ATTACHMENT_PART_BYTES * (parts - 1) + 100)
    stream = os.urandom(size)
    attachment = start_upload(person.user, conversation, size).attachment
    for number in range(send):
        start = number * ATTACHMENT_PART_BYTES
        store_part(
            person.user, attachment.pk, number, stream[start : start + ATTACHMENT_PART_BYTES]
        )
    if send == parts:
        digest = attachment_digest(stream)
        complete_upload(person.user, attachment.pk, digest)
    return attachment.pk


def began(attachment_id: uuid.UUID, hours_ago: float) -> None:
    Attachment.objects.filter(pk=attachment_id).update(
        created_at=timezone.now() - dt.timedelta(hours=hours_ago)
    )


def files(folder: Path, attachment_id: uuid.UUID) -> list[str]:
    where = folder / str(attachment_id)
    return sorted(path.name for path in where.iterdir()) if where.exists() else []


def test_an_abandoned_upload_is_collected_by_the_periodic_job(attachment_folder: Path) -> None:
    world = make_practice()
    abandoned = upload(world.client, world.chat.id, 3, send=2)
    recent = upload(world.client, world.chat.id, 3, send=1)
    finished = upload(world.therapist, world.chat.id, 2, send=2)
    began(abandoned, HOURS + 0.1)
    began(recent, HOURS - 0.1)
    began(finished, HOURS * 10)
    assert files(attachment_folder, abandoned) == ["0", "1"]

    assert "attachment_collection" in periodic.run_due()

    assert not Attachment.objects.filter(pk=abandoned).exists()
    assert not AttachmentPart.objects.filter(attachment_id=abandoned).exists()
    assert not (attachment_folder / str(abandoned)).exists()
    assert set(Attachment.objects.values_list("pk", flat=True)) == {recent, finished}
    assert files(attachment_folder, recent) == ["0"]
    assert files(attachment_folder, finished) == ["0", "1"]


def test_the_abandon_time_is_the_operators(attachment_folder: Path, settings: Any) -> None:
    world = make_practice()
    settings.CONFIDE_ATTACHMENT_ABANDON_HOURS = 2
    attachment_id = upload(world.client, world.chat.id, 1, send=0)
    now = timezone.now()

    assert collect_abandoned(now + dt.timedelta(hours=1, minutes=59)) == 0
    assert collect_abandoned(now + dt.timedelta(hours=2, minutes=1)) == 1
    assert not Attachment.objects.filter(pk=attachment_id).exists()


def test_a_part_already_missing_does_not_stop_the_collection(attachment_folder: Path) -> None:
    world = make_practice()
    attachment_id = upload(world.client, world.chat.id, 3, send=2)
    began(attachment_id, HOURS + 1)
    (attachment_folder / str(attachment_id) / "0").unlink()

    assert collect_abandoned() == 1

    assert not Attachment.objects.filter(pk=attachment_id).exists()
    assert not (attachment_folder / str(attachment_id)).exists()


def test_the_collection_runs_once_an_hour(attachment_folder: Path) -> None:
    world: Practice5 = make_practice()
    periodic.run_due()
    attachment_id = upload(world.client, world.chat.id, 1, send=0)
    began(attachment_id, HOURS + 1)

    assert "attachment_collection" not in periodic.run_due()
    DutyRun.objects.filter(name="attachment_collection").update(
        last_run=timezone.now() - dt.timedelta(hours=1, seconds=1)
    )
    assert periodic.run_due() == ["attachment_collection"]
    assert not Attachment.objects.exists()
