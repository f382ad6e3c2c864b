"""Files through the Python client, against a real server (docs/protocol.md, "Attachments"):
a client sends a file with a message, encrypted here in parts, and the therapist saves it,
byte for byte the same; an upload whose connection drops after its first part asks the
server what it holds and sends only what it lacks; a download that drops resumes from the
byte it stopped at; a stream altered on the server's disk, or another stream in the place
of the one a message names, is refused and leaves nothing under the file's name; an empty,
missing or oversized file, a practice past its quota and a closed conversation are refused
before anything of the file is uploaded; a message presenting a file is sealed again, file
and all, after a stale epoch; and content of a version this client does not know is
reported, not shown, and stops nothing."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

import crypto
from confide_client import (
    AttachmentUnreadableError,
    ConfideClient,
    ConversationClosedError,
    InvalidRequestError,
    RejectedMessage,
    ServerRefusedError,
)
from crypto import ATTACHMENT_CHUNK, attachment_ciphertext_size
from harness.servers import LiveServer, Stack
from protocol.limits import ATTACHMENT_PART_BYTES
from protocol.to_server import SendFrame
from tests.integration.faulty_http import FaultyTransport
from tests.integration.helpers import event_of, messages_from
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]
LiveServers = Callable[..., list[LiveServer]]

pytestmark = pytest.mark.timeout(180)

PART = ATTACHMENT_PART_BYTES
# Three parts of stream: two whole ones and a short last one.
THREE_PARTS = 2 * PART + 300_000
DEFAULT_LIMIT = 25 * 1024 * 1024


def a_file(folder: Path, name: str, size: int) -> tuple[Path, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    path = folder / name
    path.write_bytes(data)
    return path, data


def attachments_of(stack: Stack, conversation: uuid.UUID) -> int:
    """How many uploads the server's database holds for the conversation."""
    count = stack.query_one(
        "SELECT COUNT(*) FROM messaging_attachment WHERE conversation_id = ?", conversation
    )
    return int(count)


def stored_parts(stack: Stack, attachment_id: uuid.UUID) -> list[Path]:
    """The files of an attachment's parts in the server's storage folder, by number."""
    folder = stack.data_dir / "attachments" / str(attachment_id)
    return sorted(folder.iterdir(), key=lambda path: int(path.name)) if folder.exists() else []


def only_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_a_file_one_sends_the_other_saves_byte_for_byte(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    client = await open_client(server.url, client_persona)
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await client.connect()
    await therapist.connect()
    path, data = a_file(tmp_path / "sent", "Worksheet week 3.pdf", THREE_PARTS)

    await client.send_text(conversation, "Before the file")
    seq = await client.send_files(conversation, [path], "Here is the worksheet")
    plain, presented = await messages_from(therapist, client_persona.user_id, 2)

    # A text message reads as it always did.
    assert (plain.text, plain.attachments) == ("Before the file", ())
    assert (presented.seq, presented.text) == (seq, "Here is the worksheet")
    [reference] = presented.attachments
    assert (reference.name, reference.type, reference.size) == (
        "Worksheet week 3.pdf",
        "application/pdf",
        THREE_PARTS,
    )
    assert "Worksheet" not in repr(presented)
    assert attachments_of(stack, conversation) == 1
    assert len(stored_parts(stack, reference.attachment_id)) == 3
    # What the server stores is the stream, never the file.
    stored = b"".join(part.read_bytes() for part in stored_parts(stack, reference.attachment_id))
    assert len(stored) == attachment_ciphertext_size(THREE_PARTS)
    assert data[:ATTACHMENT_CHUNK] not in stored and b"Worksheet" not in stored

    folder = tmp_path / "saved"
    folder.mkdir()
    saved = await therapist.save_attachment(reference, folder)
    assert saved == folder.resolve() / "Worksheet week 3.pdf"
    assert saved.read_bytes() == data
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    # Saved again, it goes beside the first, never over it; nothing temporary stays.
    again = await therapist.save_attachment(reference, folder)
    assert again.name == "Worksheet week 3 (1).pdf" and again.read_bytes() == data
    assert only_files(folder) == ["Worksheet week 3 (1).pdf", "Worksheet week 3.pdf"]

    # The sender reads their own message back from the history, files and all, and the
    # conversation's export names the file.
    page = await client.history(conversation)
    assert [m.attachments for m in page.messages] == [(), (reference,)]
    verified = await client.export_conversation(conversation, tmp_path / "export.html")
    assert verified.messages[-1].text == (
        "Here is the worksheet\nAttachment: Worksheet week 3.pdf (2.3 MB)"
    )


@pytest.mark.parametrize("lost", ["answer", "request"])
async def test_an_upload_dropped_after_its_first_part_sends_only_the_missing_parts(
    lost: str,
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    network = FaultyTransport()
    client = await open_client(server.url, client_persona, http_transport=network)
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await client.connect()
    await therapist.connect()
    path, data = a_file(tmp_path, "scan.png", THREE_PARTS)
    # The connection drops on the second part: after the server stored it ("answer"), or
    # before it arrived ("request").
    network.break_once("PUT", "/parts/1", lost)

    await client.send_files(conversation, [path], "The scan")

    puts = [p.rsplit("/", 1)[-1] for p in network.paths("PUT", "/parts/")]
    # Part 0 is never sent again; part 1 again only if the server lacks it.
    assert puts == (["0", "1", "2"] if lost == "answer" else ["0", "1", "1", "2"])
    [attachment_id] = {p.split("/")[3] for p in network.paths("PUT", "/parts/")}
    # Once, after the drop, the client asked the server which parts it holds.
    assert network.paths("GET", f"/attachments/{attachment_id}") == [
        f"/api/attachments/{attachment_id}"
    ]
    assert len(network.paths("POST", "/complete")) == 1
    assert len(stored_parts(stack, uuid.UUID(attachment_id))) == 3

    [message] = await messages_from(therapist, client_persona.user_id, 1)
    [reference] = message.attachments
    assert str(reference.attachment_id) == attachment_id
    assert (await therapist.save_attachment(reference, tmp_path)).read_bytes() == data


async def test_a_download_dropped_midway_resumes_from_the_byte_it_stopped_at(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    network = FaultyTransport()
    client = await open_client(server.url, client_persona)
    therapist = await open_client(
        server.url, personas.therapist, backfill=False, http_transport=network
    )
    await client.connect()
    await therapist.connect()
    path, data = a_file(tmp_path / "sent", "journal.jpg", THREE_PARTS)
    await client.send_files(conversation, [path])
    [message] = await messages_from(therapist, client_persona.user_id, 1)
    assert message.text == ""
    [reference] = message.attachments
    cut = PART + 12_345
    network.break_once("GET", "/content", cut)

    folder = tmp_path / "saved"
    folder.mkdir()
    saved = await therapist.save_attachment(reference, folder)

    downloads = [s for s in network.seen if s.path.endswith("/content")]
    assert [(s.range, s.broken) for s in downloads] == [(None, str(cut)), (f"bytes={cut}-", None)]
    assert saved.read_bytes() == data
    assert only_files(folder) == ["journal.jpg"]


async def test_an_altered_stream_is_refused_and_nothing_is_left_under_its_name(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    client = await open_client(server.url, client_persona)
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await client.connect()
    await therapist.connect()
    path, _ = a_file(tmp_path / "sent", "letter.docx", THREE_PARTS)
    other_path, _ = a_file(tmp_path / "sent", "other.txt", 5000)
    await client.send_files(conversation, [path, other_path], "Two files")
    [message] = await messages_from(therapist, client_persona.user_id, 1)
    reference, other = message.attachments
    assert reference.type.startswith("application/")
    assert (other.name, other.type) == ("other.txt", "text/plain")

    # One byte of the stream's second part changes on the server's disk: the first part
    # opens (and goes to the temporary file) before the change is met.
    second = stored_parts(stack, reference.attachment_id)[1]
    altered = bytearray(second.read_bytes())
    altered[1000] ^= 0x01
    second.write_bytes(bytes(altered))
    folder = tmp_path / "saved"
    folder.mkdir()

    with pytest.raises(AttachmentUnreadableError) as refused:
        await therapist.save_attachment(reference, folder)

    assert refused.value.code == "attachment_unreadable"
    assert "could not be opened" in refused.value.message
    assert "altered" in refused.value.message
    assert only_files(folder) == []

    # Another stream in the place of the one the message names (the server serving the
    # other attachment under this id) does not open either.
    swapped = replace(other, attachment_id=reference.attachment_id)
    with pytest.raises(AttachmentUnreadableError):
        await therapist.save_attachment(swapped, folder)
    assert only_files(folder) == []
    # The file that was not touched still saves.
    assert (await therapist.save_attachment(other, folder)).name == "other.txt"


async def test_an_empty_a_missing_and_an_oversized_file_are_refused_before_anything_is_uploaded(
    server: LiveServer,
    stack: Stack,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    network = FaultyTransport()
    client = await open_client(server.url, client_persona, http_transport=network)
    await client.connect()
    empty = tmp_path / "empty.txt"
    empty.touch()
    # Sparse: 25 MiB and one byte, over the server's limit, nothing of it ever read.
    large = tmp_path / "recording.m4a"
    with large.open("wb") as file:
        file.truncate(DEFAULT_LIMIT + 1)
    fine, _ = a_file(tmp_path, "fine.txt", 10)

    with pytest.raises(InvalidRequestError) as no_bytes:
        await client.send_files(conversation, [fine, empty], "Both")
    assert no_bytes.value.code == "attachment_empty"
    assert "empty.txt is empty" in no_bytes.value.message
    with pytest.raises(InvalidRequestError) as missing:
        await client.upload_attachment(conversation, tmp_path / "nowhere.pdf")
    assert missing.value.code == "file_not_found"
    with pytest.raises(InvalidRequestError) as folder:
        await client.upload_attachment(conversation, tmp_path)
    assert folder.value.code == "file_unreadable"
    assert [s for s in network.seen if "/attachments" in s.path] == []

    with pytest.raises(ServerRefusedError) as too_large:
        await client.upload_attachment(conversation, large)
    assert too_large.value.code == "attachment_too_large"
    assert too_large.value.data["max_bytes"] == DEFAULT_LIMIT
    # The server was asked once, with the stream's size; no part went.
    [asked] = [s for s in network.seen if "/attachments" in s.path]
    assert (asked.method, asked.path) == ("POST", f"/api/conversations/{conversation}/attachments")
    assert attachments_of(stack, conversation) == 0


async def test_a_practice_past_its_quota_and_a_closed_conversation_take_no_file(
    stack: Stack,
    open_client: OpenClient,
    new_pair: NewPair,
    live_servers: LiveServers,
    tmp_path: Path,
) -> None:
    [full] = live_servers(1, stack, {"CONFIDE_ATTACHMENT_QUOTA_BYTES": "0"})
    client_persona, conversation = await new_pair(full.url)
    client = await open_client(full.url, client_persona)
    await client.connect()
    path, _ = a_file(tmp_path, "notes.txt", 2000)

    with pytest.raises(ServerRefusedError) as over:
        await client.send_files(conversation, [path], "Notes")
    assert over.value.code == "quota_exceeded"
    assert over.value.data["remaining_bytes"] == 0
    assert attachments_of(stack, conversation) == 0

    stack.execute(
        "UPDATE messaging_conversation SET status = 'discharged' WHERE id = ?", conversation
    )
    with pytest.raises(ConversationClosedError):
        await client.upload_attachment(conversation, path)
    assert attachments_of(stack, conversation) == 0


async def test_a_message_presenting_a_file_is_resealed_after_a_stale_epoch(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    client_persona, conversation = await new_pair()
    client = await open_client(server.url, client_persona)
    await client.conversations()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.connect()
    assert await therapist.rekey(conversation) == 1
    path, data = a_file(tmp_path / "sent", "form.pdf", 70_000)

    # The client missed the new epoch: its message is sealed under the old one, refused,
    # and sealed again with the same text and file under the new one.
    await client.connect()
    seq = await client.send_files(conversation, [path], "The form, filled in")

    assert client.stats.reseals == 1
    [message] = await messages_from(therapist, client_persona.user_id, 1)
    assert (message.seq, message.text, len(message.attachments)) == (
        seq,
        "The form, filled in",
        1,
    )
    saved = await therapist.save_attachment(message.attachments[0], tmp_path / "sent")
    assert saved.name == "form (1).pdf" and saved.read_bytes() == data


async def test_content_this_client_cannot_read_is_reported_and_the_rest_goes_on(
    server: LiveServer,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    client_persona, conversation = await new_pair()
    client = await open_client(server.url, client_persona)
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await client.connect()
    await therapist.connect()
    key = therapist.conversation_key(conversation, 0)
    # Content of a version this client does not know, signed and sealed as any message.
    message_id = uuid.uuid4()
    later = crypto.seal_message(
        b"\xff\x02" + bytes(10), key, conversation, 0, therapist.identity, message_id
    )
    frame = SendFrame(
        conversation=conversation,
        client_message_id=message_id,
        epoch=0,
        ciphertext=crypto.b64encode(later),
    )
    await therapist.call(frame)
    await therapist.send_text(conversation, "And this one reads")

    rejected = await event_of(client, RejectedMessage)
    assert (rejected.seq, rejected.reason) == (1, "UnsupportedVersionError")
    [message] = await messages_from(client, personas.therapist.user_id, 1)
    assert (message.seq, message.text, message.attachments) == (2, "And this one reads", ())


@pytest.mark.parametrize(
    ("stage", "lost"),
    [("begin", "request"), ("begin", "answer"), ("complete", "request"), ("complete", "answer")],
)
async def test_an_upload_dropped_as_it_begins_or_completes_still_arrives_once(
    stage: str,
    lost: str,
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
    tmp_path: Path,
) -> None:
    """The other stages of an upload: its beginning (``POST .../attachments``) and its
    completion (``POST .../complete``), each lost before the server saw it or after it
    acted. The file arrives once, whole; a beginning whose answer was lost leaves one
    upload the client never learnt of, incomplete (collected after a day), and no other."""
    client_persona, conversation = await new_pair()
    network = FaultyTransport()
    client = await open_client(server.url, client_persona, http_transport=network)
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await client.connect()
    await therapist.connect()
    path, data = a_file(tmp_path, "form.pdf", PART + 1000)
    if stage == "begin":
        network.break_once("POST", f"/conversations/{conversation}/attachments", lost)
    else:
        network.break_once("POST", "/complete", lost)

    await client.send_files(conversation, [path], "The form")

    begun = network.paths("POST", f"/conversations/{conversation}/attachments")
    completed = network.paths("POST", "/complete")
    assert (len(begun), len(completed)) == ((2, 1) if stage == "begin" else (1, 2))
    expected_uploads = 2 if (stage, lost) == ("begin", "answer") else 1
    assert attachments_of(stack, conversation) == expected_uploads
    [message] = await messages_from(therapist, client_persona.user_id, 1)
    assert message.text == "The form"
    [reference] = message.attachments
    assert (await therapist.save_attachment(reference, tmp_path)).read_bytes() == data
