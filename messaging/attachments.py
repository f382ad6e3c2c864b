"""``/api/conversations/<id>/attachments`` and ``/api/attachments/<id>/...``: encrypted
files, uploaded in parts and downloaded whole or from where a download stopped
(docs/protocol.md, "Attachments"; ``services.attachments`` decides everything)."""

from __future__ import annotations

import logging
import re
import uuid

from django.core.handlers.asgi import ASGIRequest
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

import crypto
from accounts.api import api, error_response, gate, parse_body, read_body, signed_in_user
from accounts.models import Role
from accounts.signup import decode
from messaging import parts
from messaging.models import Attachment
from messaging.services.attachments import (
    Upload,
    complete_upload,
    readable,
    start_upload,
    store_part,
    upload_state,
)
from messaging.services.common import member_conversation
from protocol import http
from protocol.errors import (
    ApiError,
    BadRequestError,
    BodyTooLargeError,
    MethodNotAllowedError,
    RangeNotSatisfiableError,
    UnavailableError,
)
from protocol.limits import ATTACHMENT_PART_BYTES

log = logging.getLogger(__name__)

MEMBERS = (Role.CLIENT, Role.THERAPIST)
PART_TYPE = "application/octet-stream"
# One range of bytes: ``a-``, ``a-b`` or the last ``-n``.
_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")


@api(methods=("POST",), roles=MEMBERS)
def conversation_attachments(
    request: HttpRequest, conversation_id: uuid.UUID
) -> http.AttachmentAnswer:
    """A member begins an upload of ``size`` bytes of encrypted stream."""
    user = signed_in_user(request)
    # Who may upload is said before what was sent is looked at.
    member_conversation(user.pk, conversation_id, lock=False)
    body = parse_body(request, http.AttachmentRequest)
    return answer(start_upload(user, conversation_id, body.size))


@api(methods=("GET",), roles=MEMBERS)
def attachment(request: HttpRequest, attachment_id: uuid.UUID) -> http.AttachmentAnswer:
    """The upload as it stands: which parts are stored, whether it is complete."""
    return answer(upload_state(signed_in_user(request), attachment_id))


@api(methods=("PUT",), roles=MEMBERS)
def attachment_part(
    request: HttpRequest, attachment_id: uuid.UUID, number: int
) -> http.AttachmentAnswer:
    """The uploader sends part ``number``: the raw bytes, ``application/octet-stream``."""
    return answer(store_part(signed_in_user(request), attachment_id, number, _part(request)))


@api(methods=("POST",), roles=MEMBERS)
def attachment_complete(request: HttpRequest, attachment_id: uuid.UUID) -> http.AttachmentAnswer:
    """The uploader says every part is sent, with the stream's digest."""
    body = parse_body(request, http.AttachmentCompleteRequest)
    digest = decode(body.digest, "digest")
    return answer(complete_upload(signed_in_user(request), attachment_id, digest))


def attachment_content(
    request: HttpRequest, attachment_id: uuid.UUID
) -> HttpResponse | StreamingHttpResponse:
    """``GET``: the whole stream of a complete attachment, or from the first byte a
    ``Range`` asks for, streamed part after part (never all of it in memory)."""
    if request.method != "GET":
        refused = error_response(MethodNotAllowedError("Use GET."))
        refused["Allow"] = "GET"
        return refused
    try:
        stored = readable(gate(request, MEMBERS), attachment_id)
    except ApiError as exc:
        return error_response(exc)
    except (OperationalError, InterfaceError):
        log.warning("database unavailable during a download")
        return error_response(UnavailableError("The database is unavailable."))
    except Exception:
        log.exception("unexpected error before a download")
        return error_response(ApiError("Unexpected server error."))
    try:
        span = _span(request.headers.get("Range"), stored.size)
    except RangeNotSatisfiableError as exc:
        refused = error_response(exc)
        refused["Content-Range"] = f"bytes */{stored.size}"
        return refused
    return _stream(request, stored, span)


def answer(upload: Upload) -> http.AttachmentAnswer:
    stored = upload.attachment
    return http.AttachmentAnswer(
        attachment=http.AttachmentBody(
            id=stored.pk,
            conversation=stored.conversation_id,
            uploader=stored.uploader_id,
            size=stored.size,
            part_size=stored.part_size,
            parts=stored.parts,
            stored=upload.stored,
            complete=stored.completed_at is not None,
            digest=None if stored.digest is None else crypto.b64encode(bytes(stored.digest)),
            created_at=stored.created_at,
            completed_at=stored.completed_at,
            expires_at=upload.expires_at,
        )
    )


def _part(request: HttpRequest) -> bytes:
    """The request's body, raw bytes of at most one part."""
    if request.content_type != PART_TYPE:
        raise BadRequestError(f"Send a part as {PART_TYPE}, its bytes as they are.")
    return read_body(
        request,
        ATTACHMENT_PART_BYTES,
        BodyTooLargeError(f"A part is at most {ATTACHMENT_PART_BYTES} bytes."),
    )


def _span(header: str | None, size: int) -> tuple[int, int] | None:
    """The bytes ``[first, end)`` a ``Range`` header asks for; None for the whole stream
    (no header, or one this server does not serve, such as several ranges, which HTTP
    lets it ignore). A range that begins at or past the end is refused."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    start, stop = match.groups()
    if not start and not stop:
        return None
    if not start:  # the last ``stop`` bytes
        if int(stop) == 0:
            raise RangeNotSatisfiableError("An empty range of bytes was asked for.")
        return max(0, size - int(stop)), size
    first = int(start)
    if first >= size:
        raise RangeNotSatisfiableError(
            f"The stream is {size} bytes long: there is no byte {first} to begin at."
        )
    last = min(int(stop), size - 1) if stop else size - 1
    if last < first:
        return None
    return first, last + 1


def _stream(
    request: HttpRequest, stored: Attachment, span: tuple[int, int] | None
) -> StreamingHttpResponse:
    first, end = span or (0, stored.size)
    if isinstance(request, ASGIRequest):
        # Under ASGI a synchronous iterator would be read whole into memory first.
        content = parts.achunks(stored.pk, stored.part_size, first, end)
        response = StreamingHttpResponse(content, content_type=PART_TYPE)
    else:
        response = StreamingHttpResponse(
            parts.chunks(stored.pk, stored.part_size, first, end), content_type=PART_TYPE
        )
    if span is not None:
        response.status_code = 206
        response["Content-Range"] = f"bytes {first}-{end - 1}/{stored.size}"
    response["Content-Length"] = str(end - first)
    response["Accept-Ranges"] = "bytes"
    # Ciphertext, and one person's: never shown by a browser, never kept by a cache.
    response["Content-Disposition"] = "attachment"
    response["Cache-Control"] = "no-store"
    return response
