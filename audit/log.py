"""Writing, reading and checking the audit log (docs/records.md, "The audit log").

:func:`record` appends an event in the caller's transaction (or a transaction of its own):
it locks the head row, reads the previous event's hash, writes the new event with its own
hash and moves the head. Writers in any number of processes therefore form one chain, in
the order their transactions took the head. The head is locked last in a transaction (no
caller writes after recording), so the lock never waits behind one of the caller's own.

:func:`verify` walks the chain and names the first row that does not hold: edited,
deleted, inserted or reordered. A chain rewritten from some row onwards with fresh hashes
verifies, so the head is also written to the log output every hour (:func:`log_head`,
``CONFIDE_AUDIT_ANCHOR_SECONDS``): copies of those lines outside the database are
anchors that ``confide audit verify --anchor SEQ:HASH`` checks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from audit.models import GENESIS, Event, Head, PrunePermit
from protocol.audit import AuditKind, DetailValue

__all__ = [
    "Actor",
    "Anchor",
    "Finding",
    "Origin",
    "OriginMiddleware",
    "Report",
    "canonical",
    "digest_of",
    "log_head",
    "prune",
    "record",
    "origin_of",
    "set_origin",
    "timestamp",
    "verify",
]

log = logging.getLogger("audit")

_LABEL = b"confide/v1/audit\n"
_MAX_DETAIL_TEXT = 200
_MAX_DETAILS = 12
USER_AGENT_LENGTH = 300


class Actor(Protocol):
    """Who did it: an account (``accounts.models.User`` has these)."""

    @property
    def pk(self) -> Any: ...
    @property
    def email(self) -> str: ...
    @property
    def practice_id(self) -> int: ...


def timestamp(at: datetime) -> str:
    """An event's time as its hash covers it (UTC, microseconds, ``Z``)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: Event) -> bytes:
    """The bytes an event's hash covers: every field but the hash itself, as JSON with
    sorted keys and no spaces."""
    fields = {
        "seq": event.seq,
        "at": timestamp(event.at),
        "kind": event.kind,
        "actor_id": event.actor_id,
        "actor": event.actor,
        "practice_id": event.practice_id,
        "subject": event.subject,
        "address": event.address,
        "user_agent": event.user_agent,
        "details": event.details,
        "previous": event.previous,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_of(event: Event) -> str:
    """SHA-256 of the label and :func:`canonical`, in hex."""
    return hashlib.sha256(_LABEL + canonical(event)).hexdigest()


def _details(details: Mapping[str, DetailValue] | None) -> dict[str, DetailValue]:
    """Checks that details are a few short plain values: a mistake that would put content
    or a key in the log fails loudly in the tests rather than writing it."""
    checked: dict[str, DetailValue] = {}
    for key, value in (details or {}).items():
        if not isinstance(value, str | int | bool | None) or isinstance(value, float):
            raise TypeError(f"audit detail {key!r} must be a str, int, bool or None")
        if isinstance(value, str) and len(value) > _MAX_DETAIL_TEXT:
            raise ValueError(f"audit detail {key!r} is longer than {_MAX_DETAIL_TEXT}")
        checked[str(key)] = value
    if len(checked) > _MAX_DETAILS:
        raise ValueError(f"an audit event holds at most {_MAX_DETAILS} details")
    return checked


@dataclass(frozen=True)
class Origin:
    """Where the request or socket being served came from: the client's address as the
    server saw it (after the proxy middleware, docs/operations.md) and its user agent."""

    address: str
    user_agent: str

    @classmethod
    def of(cls, address: object, user_agent: object) -> Origin:
        try:
            checked = str(ipaddress.ip_address(str(address or "")))
        except ValueError:
            checked = ""
        return cls(checked, str(user_agent or "")[:USER_AGENT_LENGTH])


NOWHERE = Origin("", "")
_origin: ContextVar[Origin] = ContextVar("audit_origin", default=NOWHERE)


def set_origin(origin: Origin) -> None:
    """Names where the work of this context comes from (a websocket consumer calls it
    when its socket opens); :func:`record` uses it when not given a request."""
    _origin.set(origin)


def origin_of(request: HttpRequest) -> Origin:
    return Origin.of(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_USER_AGENT"))


class OriginMiddleware:
    """Django middleware: every event a request's work records carries the request's
    address and user agent, however deep in a service it is recorded."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        token = _origin.set(origin_of(request))
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)


def record(
    kind: AuditKind,
    *,
    request: HttpRequest | None = None,
    actor: Actor | None = None,
    actor_email: str = "",
    practice_id: int | None = None,
    subject: str = "",
    details: Mapping[str, DetailValue] | None = None,
) -> Event:
    """Appends an event, and returns it.

    ``actor`` defaults to the request's signed-in user; ``actor_email`` names someone who
    is not signed in (a failed sign-in's address as typed). ``practice_id`` defaults to
    the actor's. The address and user agent come from ``request``, or else from the
    context (:class:`OriginMiddleware`, :func:`set_origin`).

    Call it as the last write of a transaction: it locks the head row until the commit.
    """
    user = getattr(request, "user", None)
    if actor is None and not actor_email and user is not None and user.is_authenticated:
        actor = user
    if practice_id is None and actor is not None:
        practice_id = actor.practice_id
    origin = _origin.get() if request is None else origin_of(request)
    event = Event(
        at=timezone.now(),
        kind=AuditKind(kind).value,
        actor_id=None if actor is None else int(actor.pk),
        actor=(actor.email if actor is not None else actor_email)[:254],
        practice_id=practice_id,
        subject=subject[:80],
        address=origin.address,
        user_agent=origin.user_agent,
        details=_details(details),
    )
    with transaction.atomic():
        _check_constraints_now()
        head = _take_head()
        # Stamped once the head is held, so that times never go back along the chain.
        event.at = timezone.now()
        event.seq = head.seq
        event.previous = head.digest
        event.digest = digest_of(event)
        event.save(force_insert=True)
        Head.objects.filter(pk=1).update(digest=event.digest)
    return event


def _check_constraints_now() -> None:
    """PostgreSQL checks Django's foreign keys at the commit, taking a share lock on each
    row they point at: after the head was taken, that could wait on a transaction that
    holds such a row and waits for the head. Checked now, those locks come first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _take_head() -> Head:
    """Locks the head and moves it on by one; returns it with the new sequence number and
    the previous event's hash. The UPDATE comes first, so that it is the lock (on SQLite,
    the database's write lock) that orders the writers."""
    if not Head.objects.filter(pk=1).update(seq=F("seq") + 1):
        _restore_head()
        Head.objects.filter(pk=1).update(seq=F("seq") + 1)
    return Head.objects.get(pk=1)


def _restore_head() -> None:
    """A missing head row (a database emptied by hand, or by the tests' flush) is made
    again from the newest event, so that writing goes on; ``verify`` still checks the
    chain itself."""
    last = Event.objects.order_by("-seq").first()
    if last is not None:
        log.error("the audit log's head row was missing: continued from event %d", last.seq)
    cut = Event.objects.filter(kind=AuditKind.AUDIT_PRUNED).order_by("-seq").first()
    through = 0 if cut is None else int(cut.details.get("through_seq") or 0)
    Head.objects.get_or_create(
        pk=1,
        defaults={
            "seq": 0 if last is None else last.seq,
            "digest": GENESIS if last is None else last.digest,
            "pruned_seq": through,
            "pruned_digest": str(cut.details.get("through_digest") or GENESIS)
            if cut is not None
            else GENESIS,
        },
    )


# --- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A head seen outside the database: event ``seq`` had hash ``digest``."""

    seq: int
    digest: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, digest = text.partition(":")
        if (
            not seq.isdigit()
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            raise ValueError(f"{text!r} is not an anchor: give SEQ:HASH, as the audit_head line")
        return cls(int(seq), digest)


@dataclass(frozen=True)
class Finding:
    """The first row at which the chain does not hold, and what is wrong there."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"row {self.seq}: {self.problem}"


@dataclass(frozen=True)
class Report:
    checked: int
    first_seq: int
    last_seq: int
    digest: str
    finding: Finding | None

    @property
    def ok(self) -> bool:
        return self.finding is None


def _events(batch: int = 2000) -> Iterator[Event]:
    after = -1
    while True:
        rows = list(Event.objects.filter(seq__gt=after).order_by("seq")[:batch])
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def _link_problem(event: Event, expected: int) -> str | None:
    """Why ``event.previous`` is not the hash of the row before it: which row it was
    written after, if that row is still here."""
    written_after = (
        Event.objects.filter(digest=event.previous).values_list("seq", flat=True).first()
    )
    if written_after is None:
        return None
    if written_after < expected - 1:
        first, last = written_after + 1, expected - 1
        rows = f"row {first} was" if first == last else f"rows {first} to {last} were"
        return f"it was written right after row {written_after}: {rows} inserted"
    return f"it was written after the row now numbered {written_after}: rows were reordered"


def verify(anchors: Iterable[Anchor] = ()) -> Report:
    """Checks the whole chain, and each anchor against it."""
    head = Head.objects.filter(pk=1).first()
    start_seq, previous = (0, GENESIS) if head is None else (head.pruned_seq, head.pruned_digest)
    wanted = {anchor.seq: anchor.digest for anchor in anchors}
    # Anchors of rows retention removed: the cut's own row is checked against the head's
    # record of it; older ones can no longer be.
    finding: Finding | None = None
    if start_seq in wanted and wanted[start_seq] != previous:
        finding = Finding(start_seq, "its hash differs from the anchor's: the chain was rewritten")
    wanted = {seq: digest for seq, digest in wanted.items() if seq > start_seq}
    expected = start_seq + 1
    checked = 0
    for event in _events() if finding is None else ():
        if event.seq < expected:
            finding = Finding(
                event.seq, f"the head says the log starts at row {expected}: the head was edited"
            )
            break
        if event.seq != expected:
            missing = (
                f"row {expected} is"
                if event.seq == expected + 1
                else f"rows {expected} to {event.seq - 1} are"
            )
            finding = Finding(expected, f"{missing} missing: deleted from the log")
            break
        if event.previous != previous:
            problem = _link_problem(event, expected)
            finding = (
                Finding(event.seq, problem)
                if problem is not None
                # The row before holds a hash this row was not written after: it was
                # edited and its hash made again (or replaced by another).
                else Finding(
                    expected - 1,
                    f"its hash is not the one row {event.seq} was written after: "
                    "edited after it was written, and its hash made again",
                )
                if expected - 1 > start_seq
                else Finding(event.seq, "it was written after a row that is no longer in the log")
            )
            break
        if digest_of(event) != event.digest:
            finding = Finding(
                event.seq, "its contents do not match its hash: edited after it was written"
            )
            break
        if event.seq in wanted and wanted.pop(event.seq) != event.digest:
            finding = Finding(
                event.seq, "its hash differs from the anchor's: the chain was rewritten"
            )
            break
        previous, expected, checked = event.digest, expected + 1, checked + 1
    last = expected - 1
    if finding is None and start_seq:
        finding = _check_cut(start_seq)
    if finding is None:
        finding = _check_end(head, last, previous, start_seq, wanted)
    return Report(checked, start_seq + 1, last, previous, finding)


def _check_cut(start_seq: int) -> Finding | None:
    """The head says retention removed the rows up to ``start_seq``: an event recorded
    that cut must say so too."""
    cuts = Event.objects.filter(kind=AuditKind.AUDIT_PRUNED).order_by("-seq")
    for cut in cuts.only("details")[:1]:
        if cut.details.get("through_seq") == start_seq:
            return None
    return Finding(start_seq, "the rows before this one are gone, and no retention cut says so")


def _check_end(
    head: Head | None, last: int, digest: str, start_seq: int, anchors: Mapping[int, str]
) -> Finding | None:
    if head is None:
        if last > 0:
            return Finding(last, "the head row is missing: the end of the log cannot be checked")
        return None
    if head.seq > last:
        first = last + 1
        rows = f"row {first} is" if first == head.seq else f"rows {first} to {head.seq} are"
        return Finding(first, f"{rows} missing: deleted from the end of the log")
    if head.seq < last:
        return Finding(head.seq + 1, "added after the head: written outside the portal")
    if head.digest != digest:
        return Finding(last, "its hash differs from the head's: edited after it was written")
    for seq in sorted(anchors):
        return Finding(
            seq, "the anchor names a row after the newest: the log is shorter than it was"
        )
    return None


# --- the head outside the database, and retention ---------------------------------------------


def log_head() -> Head:
    """Writes the head to the log output (an ``audit_head`` line), for a copy outside the
    database to anchor the chain."""
    head = Head.objects.filter(pk=1).first() or Head()
    log.info(
        "audit_head seq=%d hash=%s",
        head.seq,
        head.digest,
        extra={"event": "audit_head", "audit_seq": head.seq, "audit_hash": head.digest},
    )
    return head


def prune(years: int, now: datetime | None = None) -> int:
    """Removes the events older than ``years`` (the oldest rows only, so the rest still
    chain), records the cut in the head and as an event of its own; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=round(365.25 * years))
    with transaction.atomic():
        Head.objects.select_for_update().filter(pk=1).first()
        # The newest event to go: everything up to the first event that is recent enough.
        first_kept = (
            Event.objects.filter(at__gte=cutoff)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        older = (
            Event.objects.all() if first_kept is None else Event.objects.filter(seq__lt=first_kept)
        )
        through = older.order_by("-seq").first()
        if through is None:
            return 0
        permit = PrunePermit.objects.create(pk=1, through=through.seq)
        count, _ = Event.objects.filter(seq__lte=through.seq).delete()
        permit.delete()
        Head.objects.filter(pk=1).update(pruned_seq=through.seq, pruned_digest=through.digest)
        record(
            AuditKind.AUDIT_PRUNED,
            details={
                "through_seq": through.seq,
                "through_digest": through.digest,
                "rows": count,
                "years": years,
            },
        )
    return count


def uses_trigger() -> bool:
    """Whether this database refuses UPDATE and DELETE of events itself (PostgreSQL)."""
    return connection.vendor == "postgresql"
