"""The stored bytes of attachments: each part of an upload is an object of its own,
``<attachment id>/<part number>``, in the storage ``STORAGES["attachments"]`` names
(Django's storage API: a folder of the data directory by default, an S3-compatible bucket
through django-storages; docs/operations.md, "Attachments").

Objects rather than one file appended to: an object store cannot append, and a part sent
again after a dropped connection then replaces exactly itself. What is written here is
ciphertext the server cannot open; which rows name which objects is
``messaging.services.attachments``'s business.

Deleting is idempotent: a part already gone is no error, so that a collection or an erasure
interrupted halfway can run again from its start.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Generator

from asgiref.sync import sync_to_async
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

__all__ = [
    "READ_BYTES",
    "achunks",
    "chunks",
    "delete",
    "discard",
    "name",
    "read",
    "storage",
    "write",
]

# Bytes read from storage at a time, when a part is read back or served.
READ_BYTES = 256 * 1024


def storage() -> Storage:
    """The attachments' storage, looked up at each use (tests and settings may change it)."""
    return storages["attachments"]


def name(attachment_id: uuid.UUID, number: int) -> str:
    return f"{attachment_id}/{number}"


def write(attachment_id: uuid.UUID, number: int, data: bytes) -> None:
    """Stores part ``number``, replacing whatever an earlier, unfinished attempt left."""
    store = storage()
    target = name(attachment_id, number)
    _delete(store, target)
    saved = store.save(target, ContentFile(data))
    if saved != target:
        # A storage that keeps both rather than replace would serve the wrong bytes later.
        _delete(store, saved)
        raise RuntimeError(
            f"The attachment storage saved {target!r} as {saved!r}: it must overwrite "
            "(FileSystemStorage allow_overwrite, S3Storage file_overwrite)."
        )


def read(attachment_id: uuid.UUID, number: int, start: int = 0) -> Generator[bytes]:
    """Part ``number``'s bytes from ``start``, ``READ_BYTES`` at a time. A part the storage
    does not have raises ``FileNotFoundError``."""
    with storage().open(name(attachment_id, number), "rb") as file:
        if start:
            file.seek(start)
        while chunk := file.read(READ_BYTES):
            yield chunk


def chunks(attachment_id: uuid.UUID, part_size: int, first: int, end: int) -> Generator[bytes]:
    """Bytes ``first`` to ``end`` (exclusive) of the stream whose parts are ``part_size``
    long, read part after part: never more than ``READ_BYTES`` held at once."""
    position = first
    while position < end:
        number, offset = divmod(position, part_size)
        wanted = min(part_size - offset, end - position)
        with contextlib.closing(read(attachment_id, number, offset)) as part:
            for chunk in part:
                piece = chunk[:wanted]
                yield piece
                position += len(piece)
                wanted -= len(piece)
                if wanted <= 0:
                    break
        if wanted > 0:
            raise OSError(f"Part {number} of attachment {attachment_id} is shorter than it was")


async def achunks(
    attachment_id: uuid.UUID, part_size: int, first: int, end: int
) -> AsyncIterator[bytes]:
    """:func:`chunks` for an ASGI response: each read runs in a worker thread, never on the
    thread the database calls share, and the next waits until the client took the last."""
    source = chunks(attachment_id, part_size, first, end)

    def step() -> bytes | None:
        return next(source, None)

    try:
        while (chunk := await sync_to_async(step, thread_sensitive=False)()) is not None:
            yield chunk
    finally:
        await sync_to_async(source.close, thread_sensitive=False)()


def delete(attachment_id: uuid.UUID, parts: int) -> None:
    """Deletes every part an upload of ``parts`` parts may have stored, present or not."""
    store = storage()
    for number in range(parts):
        _delete(store, name(attachment_id, number))
    _remove_folder(store, str(attachment_id))


def discard(attachment_id: uuid.UUID, number: int) -> None:
    """Deletes part ``number``, present or not."""
    _delete(storage(), name(attachment_id, number))


def _delete(store: Storage, target: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        store.delete(target)


def _remove_folder(store: Storage, folder: str) -> None:
    """The attachment's folder, on a storage that has folders, once it is empty (an object
    store has none: ``path`` is not implemented there)."""
    try:
        path = store.path(folder)
    except NotImplementedError:
        return
    with contextlib.suppress(OSError):  # already gone, or not empty
        os.rmdir(path)
