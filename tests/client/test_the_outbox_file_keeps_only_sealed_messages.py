"""The outbox file keeps exactly what a ``send`` frame carries (ids, epoch, ciphertext) and
when it was queued, never the text or a key; it is private (0600 in a 0700 folder), written
whole after every change of the outbox, left as it is when the client closes, and refused
clearly, never dropped, when it is damaged or belongs to another account."""

from __future__ import annotations

import json
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from confide_client.errors import BadCiphertextError, ClientClosedError, StateFileError
from confide_client.outbox import Ack, Outbox, SealedMessage
from confide_client.records import MessageState, MessageStatus
from confide_client.state import OutboxFile, StateFolder
from crypto import b64encode

SERVER = "http://127.0.0.1:8000"
CONVERSATION = uuid.uuid4()
SECRET_TEXT = "a private thought"


def _file(folder: Path, account: int = 5) -> OutboxFile:
    return StateFolder(folder).outbox_file(SERVER, account)


def _stored(path: Path) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = json.loads(path.read_text())["messages"]
    return messages


async def test_a_queued_message_is_on_disk_as_ciphertext_only_before_it_may_go(
    tmp_path: Path,
) -> None:
    store = _file(tmp_path / "state")
    outbox = Outbox(store)
    message_id = uuid.uuid4()
    outbox.add(CONVERSATION, message_id, 3, b"sealed bytes", SECRET_TEXT)

    text = store.path.read_text()
    assert SECRET_TEXT not in text
    saved = json.loads(text)
    assert saved["format"] == 1 and saved["server"] == SERVER and saved["account"] == 5
    (entry,) = saved["messages"]
    assert set(entry) == {"conversation", "client_message_id", "epoch", "ciphertext", "queued_at"}
    assert entry["client_message_id"] == str(message_id)
    assert entry["epoch"] == 3
    assert entry["ciphertext"] == b64encode(b"sealed bytes")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


async def test_an_ack_or_a_refusal_takes_the_message_off_the_disk(tmp_path: Path) -> None:
    store = _file(tmp_path)
    outbox = Outbox(store)
    acked, refused, waiting = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for message_id in (acked, refused, waiting):
        outbox.add(CONVERSATION, message_id, 0, b"sealed", "text")

    outbox.acknowledge(Ack(CONVERSATION, acked, seq=1, duplicate=False))
    entry = outbox.get(CONVERSATION, refused)
    assert entry is not None
    outbox.fail(entry, BadCiphertextError("no"))

    assert [m["client_message_id"] for m in _stored(store.path)] == [str(waiting)]


async def test_closing_keeps_the_file_for_the_next_run(tmp_path: Path) -> None:
    store = _file(tmp_path)
    outbox = Outbox(store)
    entry = outbox.add(CONVERSATION, uuid.uuid4(), 0, b"sealed", "text")

    outbox.release_all(ClientClosedError("closed"))

    with pytest.raises(ClientClosedError):
        await entry.acked
    assert len(outbox) == 0
    again = Outbox(_file(tmp_path))
    (restored,) = again.restore()
    assert restored.key == entry.key
    assert (restored.epoch, restored.ciphertext, restored.queued_at) == (
        0,
        b"sealed",
        entry.queued_at,
    )
    assert restored.text is None  # recovered by the client from the ciphertext, if it opens


async def test_a_resealed_message_is_kept_with_its_new_bytes(tmp_path: Path) -> None:
    store = _file(tmp_path)
    outbox = Outbox(store)
    entry = outbox.add(CONVERSATION, uuid.uuid4(), 0, b"epoch 0 bytes", "text")
    entry.reseal(1, b"epoch 1 bytes")
    outbox.resealed(entry)
    (saved,) = _stored(store.path)
    assert (saved["epoch"], saved["ciphertext"]) == (1, b64encode(b"epoch 1 bytes"))


async def test_every_change_of_state_is_reported(tmp_path: Path) -> None:
    seen: list[MessageStatus] = []
    outbox = Outbox(_file(tmp_path), on_status=seen.append)
    message_id = uuid.uuid4()
    entry = outbox.add(CONVERSATION, message_id, 0, b"sealed", "text")
    outbox.mark(entry, MessageState.SENDING)
    outbox.mark(entry, MessageState.SENDING)  # no change, no report
    outbox.mark(entry, MessageState.PENDING, "rate_limited")
    outbox.acknowledge(Ack(CONVERSATION, message_id, seq=7, duplicate=False))
    assert [(s.state, s.seq, s.reason) for s in seen] == [
        (MessageState.PENDING, None, None),
        (MessageState.SENDING, None, None),
        (MessageState.PENDING, None, "rate_limited"),
        (MessageState.SENT, 7, None),
    ]


def test_each_account_on_each_server_has_a_file_of_its_own(tmp_path: Path) -> None:
    folder = StateFolder(tmp_path)
    paths = {
        folder.outbox_path("http://127.0.0.1:8000", 5),
        folder.outbox_path("http://127.0.0.1:8000", 6),
        folder.outbox_path("https://portal.example.org", 5),
    }
    assert len(paths) == 3
    assert all(path.parent == tmp_path / "outbox" for path in paths)


def test_a_file_of_another_account_is_refused(tmp_path: Path) -> None:
    store = _file(tmp_path, account=5)
    store.save([SealedMessage(CONVERSATION, uuid.uuid4(), 0, b"sealed", datetime.now(UTC))])
    with pytest.raises(StateFileError, match="another server or account"):
        OutboxFile(store.path, server=SERVER, account=6)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"format": 2, "server": "http://127.0.0.1:8000", "account": 5, "messages": []}',
        '{"format": 1, "server": "http://127.0.0.1:8000", "account": 5}',
        '{"format": 1, "server": "http://127.0.0.1:8000", "account": 5, "messages": [{}]}',
        '{"format": 1, "server": "http://127.0.0.1:8000", "account": 5, "messages": [{'
        '"conversation": "6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b", "client_message_id": "x", '
        '"epoch": 0, "ciphertext": "AQID", "queued_at": "2026-01-01T00:00:00+00:00"}]}',
        '{"format": 1, "server": "http://127.0.0.1:8000", "account": 5, "messages": [{'
        '"conversation": "6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b", '
        '"client_message_id": "6f1c2b9e-0d3e-4b8e-9b8a-1c2d3e4f5a6b", '
        '"epoch": 0, "ciphertext": "AQID", "queued_at": "2026-01-01T00:00:00"}]}',
    ],
    ids=[
        "not JSON",
        "a list",
        "a later format",
        "no messages",
        "an empty message",
        "an id that is not a UUID",
        "a time without its offset",
    ],
)
def test_a_damaged_file_is_refused_clearly_and_left_as_it_is(tmp_path: Path, content: str) -> None:
    folder = StateFolder(tmp_path)
    path = folder.outbox_path(SERVER, 5)
    path.parent.mkdir(parents=True)
    path.write_text(content)

    with pytest.raises(StateFileError, match=str(path)):
        folder.outbox_file(SERVER, 5)
    assert path.read_text() == content
