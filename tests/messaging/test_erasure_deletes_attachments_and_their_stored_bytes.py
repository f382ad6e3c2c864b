"""Erasing a conversation deletes its attachments, complete or under way: their rows and
every stored part on disk. Interrupted halfway, with parts already gone, it resumes and
finishes; another conversation's attachments are untouched."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from audit.models import Event
from crypto.attachment import attachment_ciphertext_size, attachment_digest
from messaging.models import Attachment, AttachmentPart, Conversation
from messaging.services import attachments, erasure
from messaging.services.attachments import (
    complete_upload,
    start_upload,
    store_part,
)
from messaging.services.discharge import discharge
from protocol.audit import AuditKind
from protocol.limits import ATTACHMENT_PART_BYTES
from tests.personas import Chat, Person, make_practice

pytestmark = pytest.mark.django_db(transaction=True)


def upload(person: Person, chat: Chat, parts: int, *, complete: bool) -> uuid.UUID:
    """An upload of ``parts`` parts, each stored; completed when ``complete``."""
    size = attachment_ciphertext_size(ATTACHMENT_PART_BYTES * (parts - 1) + 100)
    stream = os.urandom(size)
    attachment = start_upload(person.user, chat.id, size).attachment
    for number in range(parts):
        start = number * ATTACHMENT_PART_BYTES
        store_part(
            person.user, attachment.pk, number, stream[start : start + ATTACHMENT_PART_BYTES]
        )
    if complete:
        digest = attachment_digest(stream)
        complete_upload(person.user, attachment.pk, digest)
    return attachment.pk


def stored_files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_erasure_removes_attachment_rows_and_files_from_disk(attachment_folder: Path) -> None:
    world = make_practice()
    complete_one = upload(world.client, world.chat, 2, complete=True)
    under_way = upload(world.therapist, world.chat, 1, complete=False)
    elsewhere = upload(world.other_client, world.other_chat, 2, complete=True)
    assert len(stored_files(attachment_folder)) == 5
    discharge(world.therapist.user, world.chat.id)
    erasure.request_erasure(world.admin.user, world.chat.id, "client_request")

    assert erasure.erase(world.chat.id)

    assert not Attachment.objects.filter(conversation_id=world.chat.id).exists()
    assert not AttachmentPart.objects.filter(attachment_id__in=[complete_one, under_way]).exists()
    for gone in (complete_one, under_way):
        assert not (attachment_folder / str(gone)).exists()
    assert stored_files(attachment_folder) == [f"{elsewhere}/0", f"{elsewhere}/1"]
    assert Attachment.objects.get().pk == elsewhere
    erased = Event.objects.get(kind=AuditKind.CONVERSATION_ERASED)
    assert erased.details["attachments"] == 2


def test_an_interrupted_erasure_with_parts_already_gone_resumes(
    attachment_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachments, "BATCH", 1)
    world = make_practice()
    made = [upload(world.client, world.chat, 2, complete=True) for _ in range(3)]
    discharge(world.therapist.user, world.chat.id)
    assert erasure.begin(world.chat.id, "requested")
    # Killed after the envelopes, the messages (none) and one attachment ...
    assert not erasure.destroy(world.chat.id, erasure.Destroyed(), stop_after=2)
    assert Attachment.objects.filter(conversation_id=world.chat.id).count() == 2
    # ... and a part of another one lost meanwhile.
    remaining = list(Attachment.objects.values_list("pk", flat=True))
    (attachment_folder / str(remaining[0]) / "1").unlink()

    assert erasure.sweep() == 1

    assert Conversation.objects.get(pk=world.chat.id).status == Conversation.Status.ERASED
    assert not Attachment.objects.exists()
    assert stored_files(attachment_folder) == []
    for attachment_id in made:
        assert not (attachment_folder / str(attachment_id)).exists()
