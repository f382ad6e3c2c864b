"""Attachments from this computer (docs/protocol.md, "Attachments"; crypto/SPEC.md,
"Attachments" and "Message content").

Sending a file: it is read and encrypted a piece at a time into its stream
(:class:`crypto.AttachmentSealer`), cut into the parts the server asks for, and each part
is sent as soon as it is made; only the part on its way is held, never the whole file or
its stream. The server is told the stream's length first, so a file over its limit, or
past the practice's quota, is refused before anything is read. After a dropped connection
(or a refusal the protocol marks as safe to resend) the client waits, asks the server which
parts it holds, and sends only those it lacks; a part whose answer was lost is not sent
again. Then ``complete`` with the stream's digest, and the reference
(:class:`crypto.AttachmentReference`: id, key, digest, size, name, type) goes in the sealed
message that presents the file (``ConfideClient.send_files``).

Saving a file: its stream is downloaded as it arrives, each piece opened
(:class:`crypto.AttachmentOpener`) and written to a temporary file in the destination
folder (mode 0600); a dropped download resumes from the byte it stopped at
(``Range: bytes=<received>-``). Only once the whole stream is checked (its end and its
digest, which the message names) is the file given its name, next to any file of that name
rather than over it (``name (1).ext``). A stream that does not open is dropped whole:
:class:`~confide_client.errors.AttachmentUnreadableError`, and nothing is left under the
file's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import math
import mimetypes
import os
import re
import stat
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from confide_client.backoff import Backoff
from confide_client.errors import (
    AttachmentUnreadableError,
    ClientError,
    ConnectionLostError,
    InvalidRequestError,
    ProtocolError,
    ServerRefusedError,
    known_code,
)
from confide_client.http import HttpApi
from confide_client.outbox import resend_delay
from confide_client.wire import build
from crypto import (
    ATTACHMENT_CHUNK,
    MAX_ATTACHMENTS,
    AttachmentOpener,
    AttachmentReference,
    AttachmentSealer,
    CryptoError,
    b64encode,
)
from protocol.errors import RESEND, ErrorCode
from protocol.http import (
    AttachmentAnswer,
    AttachmentBody,
    AttachmentCompleteRequest,
    AttachmentRequest,
)

__all__ = [
    "DEFAULT_TYPE",
    "MAX_ATTEMPTS",
    "LocalFile",
    "check_count",
    "download",
    "file_name",
    "local_file",
    "media_type_of",
    "numbered",
    "save",
    "size_text",
    "upload",
]

log = logging.getLogger(__name__)

# What a file whose type is not known is sent as (crypto/SPEC.md, "Attachments").
DEFAULT_TYPE = "application/octet-stream"
# Failures in a row, with no part or byte getting through between them, before an upload
# or a download gives up.
MAX_ATTEMPTS = 6
# What the name of a file may not hold (crypto/SPEC.md, "Attachments"): control
# characters, DEL, slashes and backslashes.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\]")
_MAX_NAME = 255
# HTTP statuses of a proxy in front of the server that is down or restarting.
_GATEWAY = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file on this computer about to be sent: where it is, its size, and the name and
    media type its message will give it."""

    path: Path
    size: int
    name: str
    type: str


# --- the file to send -----------------------------------------------------------------------


def size_text(size: int) -> str:
    """A file's size as people read it, as the web client writes it (its ``formatSize``):
    ``1 byte``, ``812 bytes``, ``178 KB``, ``2.3 MB``; one decimal under 10 of a unit."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value, unit = size / 1024, 0
    units = ("KB", "MB", "GB", "TB")
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    shown = math.floor(value * 10 + 0.5) / 10 if value < 10 else math.floor(value + 0.5)
    return f"{shown:g} {units[unit]}"


def file_name(raw: str) -> str:
    """The name a file is sent under: its base name, with each character the format does
    not allow in a name (control characters, slashes, backslashes) shown as ``_``, bytes
    that are not UTF-8 as U+FFFD, and cut to 255 bytes (keeping its extension)."""
    text = os.fsencode(raw).decode("utf-8", "replace")
    name = _FORBIDDEN.sub("_", text.rsplit("/", 1)[-1])
    if name in ("", ".", ".."):
        name = "file"
    return _fit(name)


def _fit(name: str, limit: int = _MAX_NAME) -> str:
    """``name`` cut to ``limit`` bytes of UTF-8 on a character's boundary, its extension
    kept when it is short."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix.encode("utf-8")) > 32:
        stem, suffix = name, ""
    else:
        suffix = "." + suffix
    room = limit - len(suffix.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return cut + suffix


def media_type_of(name: str) -> str:
    """The media type of a file by its name (:mod:`mimetypes`): lower case, without
    parameters; ``application/octet-stream`` when it is not known, or is not a type the
    format takes."""
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if not guessed:
        return DEFAULT_TYPE
    media_type = guessed.split(";", 1)[0].strip().lower()
    try:
        AttachmentSealer(1, "x", media_type)
    except CryptoError:
        return DEFAULT_TYPE
    return media_type


def local_file(path: str | os.PathLike[str]) -> LocalFile:
    """The file at ``path``, checked before anything is sent: it exists, is a regular file
    this user can read, and is not empty. Raises :class:`InvalidRequestError`:
    ``file_not_found``, ``file_unreadable`` or ``attachment_empty``."""
    where = Path(path).expanduser()
    try:
        info = where.stat()
    except FileNotFoundError:
        raise InvalidRequestError(f"There is no file {where}.", code="file_not_found") from None
    except OSError as exc:
        raise InvalidRequestError(
            f"{where} cannot be read: {exc.strerror or exc}.", code="file_unreadable"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidRequestError(
            f"{where} is not a file (a folder, or a device): only files are sent.",
            code="file_unreadable",
        )
    if not os.access(where, os.R_OK):
        raise InvalidRequestError(
            f"{where} cannot be read: permission denied.", code="file_unreadable"
        )
    if info.st_size == 0:
        raise InvalidRequestError(
            f"{where.name} is empty: an empty file is not sent.", code="attachment_empty"
        )
    name = file_name(where.name)
    return LocalFile(where, info.st_size, name, media_type_of(name))


def check_count(files: Sequence[object]) -> None:
    """A message presents 1 to ``crypto.MAX_ATTACHMENTS`` files."""
    if not files:
        raise InvalidRequestError("Name at least one file to send.", code="no_attachment")
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidRequestError(
            f"A message presents at most {MAX_ATTACHMENTS} files ({len(files)} were given).",
            code="too_many_attachments",
        )


# --- retrying -------------------------------------------------------------------------------


def _transient(error: ClientError) -> bool:
    """Whether trying again may succeed: the connection was lost, the server refused with
    a code the protocol marks as safe to resend, or a proxy in front of it answered that
    it is down."""
    if isinstance(error, ConnectionLostError):
        return True
    if isinstance(error, ServerRefusedError):
        return known_code(error.code) in RESEND
    return error.code == "http_error" and error.data.get("status") in _GATEWAY


class _Retries:
    """Failures in a row: a pause after each (the server's ``retry_after_ms`` when it
    gives one, a growing one otherwise), and the last error raised once there were
    ``attempts`` of them with nothing getting through."""

    def __init__(self, pause: Backoff, attempts: int) -> None:
        self.pause = pause
        self.attempts = attempts
        self.failures = 0

    async def failed(self, error: ClientError) -> None:
        if not _transient(error):
            raise error
        self.failures += 1
        if self.failures >= self.attempts:
            raise error
        delay = None
        if isinstance(error, ServerRefusedError):
            delay = resend_delay(error, self.pause)
        await asyncio.sleep(self.pause.next_delay() if delay is None else delay)

    def progressed(self) -> None:
        self.failures = 0
        self.pause.reset()


class _StartAgain(Exception):
    """The server no longer holds a part this client already let go of (its storage lost
    it): the upload begins again, as a new attachment."""

    def __init__(self, error: ClientError) -> None:
        super().__init__(error.message)
        self.error = error


# --- sending --------------------------------------------------------------------------------


class _Parts:
    """The stream of a file cut into parts of ``part_size`` bytes, made one at a time as
    the file is read (in a worker thread: reading and encrypting take a while for a large
    file)."""

    def __init__(
        self, source: BinaryIO, file: LocalFile, sealer: AttachmentSealer, part_size: int
    ) -> None:
        self._source = source
        self._file = file
        self._sealer = sealer
        self._part_size = part_size
        self._left = file.size
        self._pending = bytearray(sealer.start())

    def next(self) -> bytes:
        while len(self._pending) < self._part_size and self._left:
            piece = self._read(min(ATTACHMENT_CHUNK, self._left))
            self._left -= len(piece)
            self._pending += self._sealer.push(piece)
        if not self._left and self._source.read(1):
            raise _changed(self._file)
        part = bytes(self._pending[: self._part_size])
        del self._pending[: self._part_size]
        return part

    def _read(self, count: int) -> bytes:
        data = bytearray()
        while len(data) < count:
            piece = self._source.read(count - len(data))
            if not piece:
                raise _changed(self._file)
            data += piece
        return bytes(data)


def _changed(file: LocalFile) -> InvalidRequestError:
    return InvalidRequestError(
        f"{file.path} changed while it was being sent (it is no longer {file.size:,} bytes): "
        "send it again once it is written.",
        code="file_changed",
    )


async def upload(
    http: HttpApi,
    conversation: uuid.UUID,
    file: LocalFile,
    *,
    pause: Backoff,
    attempts: int = MAX_ATTEMPTS,
) -> AttachmentReference:
    """Encrypts and uploads ``file`` to the conversation, resuming after dropped
    connections; returns the reference its message carries. Refusals of the server raise
    their :class:`ServerRefusedError`: ``attachment_too_large`` (with ``max_bytes``) and
    ``quota_exceeded`` (with ``remaining_bytes``) when the upload begins, before anything of
    the file is read; ``conversation_closed`` then or, should the conversation be
    discharged meanwhile, at a later part."""
    try:
        return await _upload_once(http, conversation, file, _Retries(pause, attempts))
    except _StartAgain as again:
        log.warning("an upload begins again: %s", again.error.code)
    try:
        return await _upload_once(http, conversation, file, _Retries(pause, attempts))
    except _StartAgain as again:
        raise again.error from None


async def _upload_once(
    http: HttpApi, conversation: uuid.UUID, file: LocalFile, retries: _Retries
) -> AttachmentReference:
    try:
        sealer = AttachmentSealer(file.size, file.name, file.type)
    except CryptoError as exc:
        raise InvalidRequestError(
            f"{file.path} cannot be sent: {exc}", code="attachment_too_large"
        ) from None
    try:
        source = file.path.open("rb")
    except OSError as exc:
        raise InvalidRequestError(
            f"{file.path} cannot be read: {exc.strerror or exc}.", code="file_unreadable"
        ) from None
    with source:
        begun = await _begin(http, conversation, sealer.stream_size, retries)
        parts = _Parts(source, file, sealer, begun.part_size)
        await _send_parts(http, begun, parts, retries)
        await _complete(http, begun, sealer.digest, retries)
    log.info("attachment %s uploaded: %d bytes in %d parts", begun.id, begun.size, begun.parts)
    return sealer.reference(begun.id)


async def _begin(
    http: HttpApi, conversation: uuid.UUID, size: int, retries: _Retries
) -> AttachmentBody:
    request = build(lambda: AttachmentRequest(size=size), "attachment")
    if not isinstance(conversation, uuid.UUID):
        raise InvalidRequestError("A conversation id is a UUID")
    while True:
        try:
            answer = await http.post(
                f"/api/conversations/{conversation}/attachments", request, AttachmentAnswer
            )
        except ClientError as exc:
            await retries.failed(exc)
            continue
        begun = answer.attachment
        expected = -(-size // begun.part_size)
        if begun.size != size or begun.parts != expected or begun.conversation != conversation:
            raise ProtocolError("The server began another upload than the one asked for")
        if begun.stored or begun.complete:
            raise ProtocolError("The server began an upload that already holds parts")
        retries.progressed()
        return begun


async def _state(http: HttpApi, begun: AttachmentBody, retries: _Retries) -> set[int]:
    """The parts the server holds of the upload, asked again until it answers."""
    while True:
        try:
            answer = await http.get(f"/api/attachments/{begun.id}", AttachmentAnswer)
        except ClientError as exc:
            await retries.failed(exc)
            continue
        if answer.attachment.id != begun.id:
            raise ProtocolError("The server answered with another attachment than asked for")
        return set(answer.attachment.stored)


async def _send_parts(
    http: HttpApi, begun: AttachmentBody, parts: _Parts, retries: _Retries
) -> None:
    """Each part once the server holds it; after a failure, only what it lacks."""
    stored: set[int] = set(begun.stored)
    for number in range(begun.parts):
        data = await asyncio.to_thread(parts.next)
        expected = min(begun.part_size, begun.size - number * begun.part_size)
        if len(data) != expected:
            raise ProtocolError(f"Part {number} came out {len(data)} bytes, not {expected}")
        while number not in stored:
            try:
                answer = await http.put_bytes(
                    f"/api/attachments/{begun.id}/parts/{number}", data, AttachmentAnswer
                )
            except ClientError as exc:
                await retries.failed(exc)
                # Whether the part arrived (and only its answer was lost): the server says.
                stored = await _state(http, begun, retries)
                lost = [n for n in range(number) if n not in stored]
                if lost:
                    raise _StartAgain(
                        ProtocolError(f"The server no longer holds part {lost[0]} of the upload")
                    ) from None
                continue
            stored = set(answer.attachment.stored)
            if number not in stored:
                raise ProtocolError(f"The server answered part {number} without storing it")
            retries.progressed()


async def _complete(http: HttpApi, begun: AttachmentBody, digest: bytes, retries: _Retries) -> None:
    request = build(lambda: AttachmentCompleteRequest(digest=b64encode(digest)), "digest")
    while True:
        try:
            answer = await http.post(
                f"/api/attachments/{begun.id}/complete", request, AttachmentAnswer
            )
        except ServerRefusedError as exc:
            if exc.code in (ErrorCode.ATTACHMENT_INCOMPLETE, ErrorCode.DIGEST_MISMATCH):
                # The storage lost or changed a part this client no longer holds.
                raise _StartAgain(exc) from None
            await retries.failed(exc)
            continue
        except ClientError as exc:
            await retries.failed(exc)
            continue
        done = answer.attachment
        if not done.complete or done.digest != b64encode(digest):
            raise ProtocolError("The server answered the completion without completing it")
        return


# --- saving ---------------------------------------------------------------------------------


def numbered(name: str, number: int) -> str:
    """``report.pdf`` as ``report (2).pdf`` (a name that is taken gets the next number)."""
    if number == 0:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    else:
        suffix = "." + suffix
    mark = f" ({number})"
    room = _MAX_NAME - len(mark.encode("utf-8")) - len(suffix.encode("utf-8"))
    if room < 1:
        stem, suffix = name, ""
        room = _MAX_NAME - len(mark.encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{stem}{mark}{suffix}"


def _safe_name(name: str) -> str:
    """The reference's name, if it names a file in a folder and nothing else (the format
    already forbids separators; a reader never builds a path from a name it did not
    check)."""
    separators = {"/", "\\", os.sep} | ({os.altsep} if os.altsep else set())
    if (
        not name
        or name in (".", "..")
        or any(s in name for s in separators)
        or _FORBIDDEN.search(name)
        or os.path.isabs(name)
        or os.path.splitdrive(name)[0]
    ):
        raise AttachmentUnreadableError(
            "The file's name is not one a file can be saved under; nothing was saved."
        )
    return name


def _inside(folder: Path, name: str) -> Path:
    target = folder / name
    if target.parent != folder or target.name != name:
        raise AttachmentUnreadableError(
            "The file's name would place it outside the folder; nothing was saved."
        )
    return target


def _publish(temporary: Path, folder: Path, name: str) -> Path:
    """Gives the checked file its name in ``folder``, never over an existing file: the
    first of ``name``, ``name (1)``, ``name (2)``... that is free."""
    links = True
    for number in range(10_000):
        target = _inside(folder, numbered(name, number))
        if links:
            try:
                os.link(temporary, target, follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
                    raise
                links = False  # a file system without hard links
            else:
                return target
        try:
            reserved = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(reserved)
        os.replace(temporary, target)
        return target
    raise InvalidRequestError(f"No free name for {name} in {folder}", code="folder_full")


async def download(
    http: HttpApi,
    reference: AttachmentReference,
    out: BinaryIO,
    *,
    pause: Backoff,
    attempts: int = MAX_ATTEMPTS,
) -> None:
    """Downloads the stream ``reference`` names and writes the file's bytes to ``out`` as
    they open, resuming a dropped download from the byte it stopped at; returns once the
    whole stream is checked. Raises :class:`AttachmentUnreadableError` for a stream that
    does not open (what was written to ``out`` is then not the file)."""
    retries = _Retries(pause, attempts)
    path = f"/api/attachments/{reference.attachment_id}/content"
    opener = AttachmentOpener(reference)
    received = 0
    while True:
        try:
            async with http.download(path, received) as answer:
                if received and answer.status == 200:
                    # The whole stream again, not the rest: start over.
                    opener, received = AttachmentOpener(reference), 0
                    out.seek(0)
                    out.truncate()
                elif received and not (
                    answer.status == 206
                    and (answer.content_range or "").startswith(f"bytes {received}-")
                ):
                    raise ProtocolError("The server resumed the download from another byte")
                elif not received and answer.status != 200:
                    raise ProtocolError(f"The download answered HTTP {answer.status}")
                async for piece in answer.pieces():
                    out.write(_opened(opener, piece, reference))
                    received += len(piece)
                    retries.progressed()
        except ClientError as exc:
            await retries.failed(exc)
            continue
        try:
            opener.finish()
        except CryptoError as exc:
            raise _unreadable(reference, exc) from None
        return


def _opened(opener: AttachmentOpener, piece: bytes, reference: AttachmentReference) -> bytes:
    try:
        return opener.feed(piece)
    except CryptoError as exc:
        raise _unreadable(reference, exc) from None


def _unreadable(reference: AttachmentReference, exc: CryptoError) -> AttachmentUnreadableError:
    log.warning("an attachment did not open: %s", type(exc).__name__)
    return AttachmentUnreadableError(
        f"{reference.name} could not be opened: it was altered, or it is not the file the "
        f"message named ({type(exc).__name__}). Nothing was saved.",
        reason=type(exc).__name__,
    )


async def save(
    http: HttpApi,
    reference: AttachmentReference,
    folder: str | os.PathLike[str],
    *,
    pause: Backoff,
    attempts: int = MAX_ATTEMPTS,
) -> Path:
    """Downloads, checks and saves the file ``reference`` names into ``folder``; returns
    where it was saved (mode 0600). Until the whole stream is checked the bytes go to a
    temporary file in ``folder``, deleted on any failure, so nothing partial or unchecked
    is ever under the file's name."""
    where = Path(folder).expanduser()
    if not where.is_dir():
        raise InvalidRequestError(f"{where} is not a folder.", code="folder_not_found")
    root = where.resolve()
    name = _safe_name(reference.name)
    _inside(root, name)
    descriptor, temporary_name = tempfile.mkstemp(dir=root, prefix=".confide-", suffix=".part")
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            await download(http, reference, out, pause=pause, attempts=attempts)
            out.flush()
            os.fsync(out.fileno())
        saved = _publish(temporary, root, name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    log.info("an attachment was saved: %d bytes", reference.size)
    return saved
