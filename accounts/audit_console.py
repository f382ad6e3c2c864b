"""The admin console's view of the audit log (docs/records.md): the practice's events,
newest first, filtered by person, kind and date, and the same as a CSV file. Reading the
log is itself recorded when it is downloaded.

An admin sees only the events of their own practice; events of no practice (an unknown
email's failed sign-in, the log's own retention) are the operator's, read with
``confide audit``.
"""

from __future__ import annotations

import csv
import json
import zoneinfo
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from pydantic import ValidationError

from accounts.api import api, error_response, gate, signed_in_user
from accounts.models import Role
from audit.log import record, timestamp
from audit.models import Event
from protocol.audit import AUDIT_PAGE, AuditEventItem, AuditKind, AuditPage, AuditQuery
from protocol.common import describe
from protocol.errors import ApiError, BadRequestError, MethodNotAllowedError

ADMIN = (Role.ADMIN,)
CSV_COLUMNS = (
    "seq",
    "at",
    "kind",
    "actor_id",
    "actor",
    "practice_id",
    "subject",
    "address",
    "user_agent",
    "details",
    "previous",
    "digest",
)


def _query(request: HttpRequest) -> AuditQuery:
    try:
        return AuditQuery.model_validate(dict(request.GET.items()))
    except ValidationError as exc:
        raise BadRequestError(f"Invalid filter: {describe(exc)}") from None


def _events(practice_id: int, time_zone: str, query: AuditQuery) -> QuerySet[Event]:
    events = Event.objects.filter(practice_id=practice_id)
    if query.person is not None:
        # What they did, and what was done to their account (a failed sign-in with their
        # email has no actor).
        events = events.filter(Q(actor_id=query.person) | Q(subject=f"user:{query.person}"))
    if query.kind is not None:
        events = events.filter(kind=query.kind.value)
    zone = zoneinfo.ZoneInfo(time_zone)
    if query.since is not None:
        events = events.filter(at__gte=datetime.combine(query.since, time(), zone))
    if query.until is not None:
        events = events.filter(
            at__lt=datetime.combine(query.until + timedelta(days=1), time(), zone)
        )
    return events


def _item(event: Event) -> AuditEventItem:
    return AuditEventItem(
        seq=event.seq,
        at=event.at,
        kind=AuditKind(event.kind),
        actor_id=event.actor_id,
        actor=event.actor,
        subject=event.subject,
        address=event.address,
        user_agent=event.user_agent,
        details=event.details,
    )


@api(methods=("GET",), roles=ADMIN)
def audit_page(request: HttpRequest) -> AuditPage:
    """``GET /api/admin/audit``: a page of the practice's events, newest first."""
    admin = signed_in_user(request)
    query = _query(request)
    events = _events(admin.practice_id, admin.practice.time_zone, query)
    if query.before is not None:
        events = events.filter(seq__lt=query.before)
    rows = list(events.order_by("-seq")[: AUDIT_PAGE + 1])
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    return AuditPage(
        events=[_item(row) for row in rows], next_before=rows[-1].seq if more else None
    )


class _Echo:
    """A file that hands back what is written to it, for ``csv.writer`` to stream."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(events: QuerySet[Event]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.order_by("seq").iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.seq,
                timestamp(event.at),
                event.kind,
                "" if event.actor_id is None else event.actor_id,
                _cell(event.actor),
                "" if event.practice_id is None else event.practice_id,
                _cell(event.subject),
                event.address,
                _cell(event.user_agent),
                json.dumps(
                    event.details, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ),
                event.previous,
                event.digest,
            ]
        )


def _cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """``GET /api/admin/audit.csv``: the filtered events, oldest first, with their hashes.
    The download is recorded before it is streamed."""
    if request.method != "GET":
        refused = error_response(MethodNotAllowedError("Use GET."))
        refused["Allow"] = "GET"
        return refused
    try:
        admin = gate(request, ADMIN)
        query = _query(request)
    except ApiError as exc:
        return error_response(exc)
    events = _events(admin.practice_id, admin.practice.time_zone, query)
    record(
        AuditKind.AUDIT_DOWNLOADED,
        request=request,
        subject=f"practice:{admin.practice_id}",
        details={
            "person": query.person,
            "kind": None if query.kind is None else query.kind.value,
            "since": None if query.since is None else query.since.isoformat(),
            "until": None if query.until is None else query.until.isoformat(),
        },
    )
    response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
