"""What the client decides about files without a server: the name and media type a file is
sent under, the name a saved file gets when its own is taken, how the chat reads
``/attach`` and ``/save``, and what it says of a refusal."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from confide_client.attachments import (
    DEFAULT_TYPE,
    _inside,
    _publish,
    _safe_name,
    file_name,
    local_file,
    media_type_of,
    numbered,
)
from confide_client.cli.files import (
    file_lines,
    parse_attach,
    parse_save,
    sending_refused,
    size_text,
)
from confide_client.errors import (
    AttachmentUnreadableError,
    InvalidRequestError,
    ServerRefusedError,
)
from crypto import AttachmentReference


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        ("report.pdf", "report.pdf"),
        ("/home/dana/notes/report.pdf", "report.pdf"),
        ("tab\there\nand\x1bescape.txt", "tab_here_and_escape.txt"),
        ("back\\slash.txt", "back_slash.txt"),
        ("..", "file"),
        ("é" * 200 + ".pdf", "é" * 125 + ".pdf"),
    ],
)
def test_a_file_is_sent_under_its_base_name_as_the_format_allows(raw: str, sent: str) -> None:
    assert file_name(raw) == sent
    assert len(file_name(raw).encode()) <= 255


def test_a_name_that_is_not_utf8_is_sent_readable() -> None:
    assert file_name(os.fsdecode(b"caf\xe9.txt")) == "caf\ufffd.txt"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("scan.PDF", "application/pdf"),
        ("photo.jpeg", "image/jpeg"),
        ("notes.txt", "text/plain"),
        ("archive.unknown-extension", DEFAULT_TYPE),
        ("no extension", DEFAULT_TYPE),
    ],
)
def test_the_media_type_comes_from_the_name(name: str, media_type: str) -> None:
    assert media_type_of(name) == media_type


def test_a_file_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").touch()
    (tmp_path / "one.txt").write_bytes(b"x")
    cases = {
        tmp_path / "missing.txt": "file_not_found",
        tmp_path: "file_unreadable",
        tmp_path / "empty.txt": "attachment_empty",
    }
    for path, code in cases.items():
        with pytest.raises(InvalidRequestError) as refused:
            local_file(path)
        assert refused.value.code == code
    checked = local_file(tmp_path / "one.txt")
    assert (checked.name, checked.size, checked.type) == ("one.txt", 1, "text/plain")


def test_a_taken_name_gets_the_next_number() -> None:
    assert numbered("report.pdf", 0) == "report.pdf"
    assert numbered("report.pdf", 1) == "report (1).pdf"
    assert numbered("archive.tar.gz", 2) == "archive.tar (2).gz"
    assert numbered(".bashrc", 1) == ".bashrc (1)"
    assert numbered("README", 3) == "README (3)"
    long = "a" * 251 + ".pdf"
    assert numbered(long, 12) == "a" * 246 + " (12).pdf"


def test_a_saved_file_never_replaces_a_file_or_follows_a_link(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"theirs")
    outside = tmp_path.parent / f"outside-{uuid.uuid4()}"
    (tmp_path / "report (1).pdf").symlink_to(outside)
    checked = tmp_path / ".confide-1.part"
    checked.write_bytes(b"checked")

    saved = _publish(checked, tmp_path, "report.pdf")

    assert saved == tmp_path / "report (2).pdf"
    assert saved.read_bytes() == b"checked"
    assert (tmp_path / "report.pdf").read_bytes() == b"theirs"
    assert not outside.exists()


@pytest.mark.parametrize("name", ["..", ".", "a/b.txt", "..\\up.txt", "/etc/passwd", "nul\x00.txt"])
def test_a_name_that_would_leave_the_folder_is_refused(name: str, tmp_path: Path) -> None:
    # The format forbids these in a reference already; the saving side does not rely on it.
    with pytest.raises(AttachmentUnreadableError):
        _inside(tmp_path, _safe_name(name))
    assert list(tmp_path.iterdir()) == []


def test_the_chat_reads_attach_and_save() -> None:
    assert parse_attach('"week 3.pdf" notes.txt -- Here it is -- and more') == (
        ["week 3.pdf", "notes.txt"],
        "Here it is -- and more",
    )
    assert parse_attach("scan.png") == (["scan.png"], "")
    assert parse_attach("notes.pdf -- Don't lose it") == (["notes.pdf"], "Don't lose it")
    for wrong in ("", "-- only text", '"unclosed.pdf -- text'):
        with pytest.raises(ValueError, match="/attach"):
            parse_attach(wrong)
    assert parse_save("12") == (12, None, ".")
    assert parse_save("12 2") == (12, 2, ".")
    assert parse_save('12 "My Files"') == (12, None, "My Files")
    assert parse_save("12 1 ~/Downloads") == (12, 1, "~/Downloads")
    for wrong in ("", "twelve", "12 1 a b"):
        with pytest.raises(ValueError, match="/save"):
            parse_save(wrong)


def test_the_chat_lists_files_and_says_why_one_was_refused() -> None:
    reference = AttachmentReference(
        uuid.uuid4(), bytes(32), bytes(32), 1_500_000, "plan.pdf", "application/pdf"
    )
    assert file_lines((reference,), 7) == [
        "    file 1: plan.pdf (application/pdf, 1.4 MB)  (/save 7 1)"
    ]
    assert file_lines((reference,), None) == ["    file 1: plan.pdf (application/pdf, 1.4 MB)"]
    # As the web client writes sizes (in its exports too).
    assert [size_text(n) for n in (1, 999, 2048, 182_000, 2_400_000, 5 * 1024 * 1024)] == [
        "1 byte",
        "999 bytes",
        "2 KB",
        "178 KB",
        "2.3 MB",
        "5 MB",
    ]
    limit = 25 * 1024 * 1024
    over = ServerRefusedError("No.", code="attachment_too_large", max_bytes=limit)
    assert "up to 25 MB." in sending_refused(over, "talk.m4a", 40 * 1024 * 1024)
    assert "(26,214,401 bytes) is too large" in sending_refused(over, "talk.m4a", limit + 1)
    quota = ServerRefusedError("No.", code="quota_exceeded", remaining_bytes=3 * 1024 * 1024)
    assert "no room for it (3 MB left)" in sending_refused(quota, "talk.m4a", limit)
