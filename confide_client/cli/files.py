"""Files in the chat: ``/attach`` sends files with a message, ``/save`` saves a message's
files, and each message that presents files lists them under its line.

    /attach worksheet.pdf "page 2.jpg" -- Here is this week's worksheet
    /save 12                  # every file of message 12, into the current folder
    /save 12 2 ~/Downloads    # its second file, into ~/Downloads

File names are read as a shell reads words (quote a name with spaces); what follows ``--``
is the message's text, as typed. What the server or the other person says of a file (its
name, its type) is shown through :func:`confide_client.cli.text.printable`, as every text.
"""

from __future__ import annotations

import re
import shlex

from confide_client.attachments import size_text
from confide_client.errors import (
    AgreementRequiredError,
    AttachmentUnreadableError,
    ClientError,
    ConversationClosedError,
    InvalidRequestError,
)
from crypto import AttachmentReference

__all__ = [
    "ATTACH_USAGE",
    "SAVE_USAGE",
    "file_lines",
    "parse_attach",
    "parse_save",
    "saving_refused",
    "sending_refused",
    "size_text",
]

ATTACH_USAGE = 'Give the files to send, then -- and your text: /attach notes.pdf "page 2.jpg" -- Hi'
SAVE_USAGE = (
    "Give the message's number, and a file's and a folder if you like: /save 12 1 ~/Downloads"
)
_SEPARATOR = re.compile(r"(?:^|\s)--(?:\s|$)")


def parse_attach(rest: str) -> tuple[list[str], str]:
    """The files and the text of ``/attach FILE... [-- TEXT]``; ``ValueError`` saying how to
    write it."""
    found = _SEPARATOR.search(rest)
    names, text = (rest[: found.start()], rest[found.end() :]) if found else (rest, "")
    try:
        files = shlex.split(names)
    except ValueError:
        raise ValueError(f"A quote is not closed. {ATTACH_USAGE}") from None
    if not files:
        raise ValueError(ATTACH_USAGE)
    return files, text.strip()


def parse_save(rest: str) -> tuple[int, int | None, str]:
    """The message, the file (None: every one) and the folder of ``/save N [I] [FOLDER]``;
    ``ValueError`` saying how to write it."""
    try:
        words = shlex.split(rest)
    except ValueError:
        raise ValueError(f"A quote is not closed. {SAVE_USAGE}") from None
    if not words or not words[0].isdigit():
        raise ValueError(SAVE_USAGE)
    seq, words = int(words[0]), words[1:]
    index = None
    if words and words[0].isdigit():
        index, words = int(words[0]), words[1:]
    if len(words) > 1:
        raise ValueError(SAVE_USAGE)
    return seq, index, words[0] if words else "."


def file_lines(files: tuple[AttachmentReference, ...], seq: int | None) -> list[str]:
    """A line for each file a message presents: its number, name, type and size, and how
    to save it once the message has a number."""
    lines = []
    for number, item in enumerate(files, start=1):
        how = f"  (/save {seq} {number})" if seq is not None else ""
        lines.append(f"    file {number}: {item.name} ({item.type}, {size_text(item.size)}){how}")
    return lines


def sending_refused(exc: ClientError, name: str, size: int | None) -> str:
    """Why a file was not sent, in plain words."""
    if exc.code == "attachment_too_large":
        limit = exc.data.get("max_bytes")
        if not isinstance(limit, int):
            return f"{name} is too large to be sent. ({exc.code})"
        shown, most = size_text(size or 0), size_text(limit)
        if size is not None and shown == size_text(limit):
            # Just over: the sizes say it only to the byte.
            shown, most = f"{size:,} bytes", f"{most} ({limit:,} bytes)"
        what = f"{name} ({shown})" if size is not None else name
        return f"{what} is too large: this portal takes files of up to {most}. ({exc.code})"
    if exc.code == "quota_exceeded":
        left = exc.data.get("remaining_bytes")
        room = f" ({size_text(left)} left)" if isinstance(left, int) else ""
        return (
            f"{name} was not sent: your practice's storage for files has no room for it"
            f"{room}. Its admin can raise the quota. (quota_exceeded)"
        )
    if isinstance(exc, ConversationClosedError):
        return (
            "This conversation is closed (discharged): nothing more can be sent in it, files"
            " included. (conversation_closed)"
        )
    if isinstance(exc, AgreementRequiredError):
        return (
            "Nothing is sent, files included, until you accept your practice's messaging"
            " agreement: type /agreement. (agreement_required)"
        )
    if isinstance(exc, InvalidRequestError):
        return f"{exc.message} Nothing was sent. ({exc.code})"
    return f"{name} was not sent: {exc.message} ({exc.code})"


def saving_refused(exc: ClientError, item: AttachmentReference) -> str:
    """Why a file was not saved, in plain words."""
    if isinstance(exc, AttachmentUnreadableError):
        return (
            f"{item.name} could not be opened: it was altered, or it is not the file the"
            f" message named. Nothing was saved. ({exc.code})"
        )
    return f"{item.name} was not saved: {exc.message} ({exc.code})"
