"""``confide-chat`` in a terminal, against a real server: a file the therapist sent is listed
under its message with how to save it, ``/save`` saves it byte for byte (and again beside
it, never over it); ``/attach`` refuses a missing, an empty and an oversized file in plain
words before anything is uploaded, sends files with a message the therapist then saves,
and in a discharged conversation says it is closed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from confide_client import ConfideClient
from harness.servers import LiveServer, Stack
from tests.integration.helpers import messages_from
from tests.integration.terminal import Terminal, signed_in_chat
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]

pytestmark = pytest.mark.timeout(180)


def a_file(folder: Path, name: str, size: int) -> tuple[Path, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    (folder / name).write_bytes(data)
    return folder / name, data


def uploads_in(stack: Stack, conversation: uuid.UUID) -> int:
    count = stack.query_one(
        "SELECT COUNT(*) FROM messaging_attachment WHERE conversation_id = ?", conversation
    )
    return int(count)


async def test_the_chat_saves_a_file_it_was_sent_and_sends_files(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
    terminals: list[Terminal],
) -> None:
    client, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    handout, handout_bytes = a_file(tmp_path / "theirs", "Breathing exercise.pdf", 1_500_000)
    seq = await therapist.send_files(conversation, [handout], "A handout for this week")

    chat = await signed_in_chat(server.url, client, tmp_path / "home", terminals)
    await chat.shows("Dr. Dana Demo: A handout for this week")
    await chat.shows(f"file 1: Breathing exercise.pdf (application/pdf, 1.4 MB)  (/save {seq} 1)")

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    chat.enter(f'/save {seq} "{downloads}"')
    await chat.shows("Saved Breathing exercise.pdf (1.4 MB) as Breathing exercise.pdf in")
    assert (downloads / "Breathing exercise.pdf").read_bytes() == handout_bytes
    chat.enter(f"/save {seq} 1 {downloads}")
    await chat.shows("(1.4 MB) as Breathing exercise (1).pdf in")
    assert sorted(p.name for p in downloads.iterdir()) == [
        "Breathing exercise (1).pdf",
        "Breathing exercise.pdf",
    ]
    chat.enter(f"/save {seq} 2 {downloads}")
    await chat.shows(f"Message {seq} presents files 1 to 1.")

    mine = tmp_path / "mine"
    mine.mkdir()
    chat.enter(f"/attach {mine / 'nowhere.pdf'} -- Where is it?")
    await chat.shows("! There is no file")
    (mine / "empty.txt").touch()
    chat.enter(f"/attach {mine / 'empty.txt'}")
    await chat.shows("! empty.txt is empty: an empty file is not sent.")
    with (mine / "recording.m4a").open("wb") as sparse:
        sparse.truncate(25 * 1024 * 1024 + 1)
    chat.enter(f"/attach {mine / 'recording.m4a'} -- The recording")
    await chat.shows("is too large: this portal takes files of up to 25 MB")
    assert uploads_in(stack, conversation) == 1  # the therapist's handout alone

    worksheet, worksheet_bytes = a_file(mine, "week 3.pdf", 1_200_000)
    notes, notes_bytes = a_file(mine, "notes.txt", 300)
    chat.enter(f'/attach "{worksheet}" {notes} -- Here is my worksheet, and a note')
    await chat.shows("you: Here is my worksheet, and a note")
    await chat.shows("file 2: notes.txt (text/plain, 300 bytes)")
    await chat.shows("✓ sent")

    [heard] = await messages_from(therapist, client.user_id, 1)
    assert heard.text == "Here is my worksheet, and a note"
    assert [(a.name, a.size) for a in heard.attachments] == [
        ("week 3.pdf", 1_200_000),
        ("notes.txt", 300),
    ]
    kept = tmp_path / "kept"
    kept.mkdir()
    for reference, data in zip(heard.attachments, (worksheet_bytes, notes_bytes), strict=True):
        assert (await therapist.save_attachment(reference, kept)).read_bytes() == data

    stack.execute(
        "UPDATE messaging_conversation SET status = 'discharged' WHERE id = ?", conversation
    )
    chat.enter(f"/attach {notes}")
    await chat.shows("! This conversation is closed (discharged)")
    assert uploads_in(stack, conversation) == 3
    chat.enter("/quit")
    assert await chat.exit_code() == 0
