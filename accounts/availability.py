"""A therapist's availability (DESIGN.md section 6; docs/protocol.md, "Availability"):
office hours, a reply time, an away status with a note and an automatic reply.

A therapist sets it (``/api/me/availability``); their clients read it above the composer
(``/api/conversations/<id>/availability``), in their own time zone. Hours are kept as the
therapist wrote them, wall-clock times in the practice's time zone, so that they follow
daylight saving time as the office does; what clients are given is the coming week's
blocks as instants, worked out here with ``zoneinfo``, and whether the hours are on now.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.api import api, parse_body, signed_in_user
from accounts.models import Availability, Practice, Role, User
from protocol.availability import (
    AvailabilityAnswer,
    AvailabilitySettings,
    AwayBody,
    OfficeHours,
    TherapistAvailability,
    WindowBody,
)
from protocol.errors import BadRequestError

log = logging.getLogger(__name__)

__all__ = ["availability", "change_availability", "settings_of", "shown", "windows"]

# Blocks given to clients: the coming week, so a block of next Monday shows on a Sunday.
WEEK = dt.timedelta(days=7)
# The furthest an away status may reach: long leave, not "away" forever.
MAX_AWAY = dt.timedelta(days=366)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def check_office_hours(blocks: list[OfficeHours]) -> list[OfficeHours]:
    """The blocks in week order, or ``BadRequestError`` naming the day of a block that ends
    before it starts or overlaps another."""
    ordered = sorted(blocks, key=lambda block: (block.day, _minutes(block.start)))
    for block in ordered:
        if block.start == "24:00":
            raise BadRequestError(f"A block on {DAY_NAMES[block.day]} starts at 24:00; use 00:00.")
        if _minutes(block.end) <= _minutes(block.start):
            raise BadRequestError(
                f"The block on {DAY_NAMES[block.day]} from {block.start} ends at {block.end}, "
                "not after it starts. A block ends on the day it starts; for hours past "
                "midnight, end it at 24:00 and start another at 00:00 the next day."
            )
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.day == after.day and _minutes(after.start) < _minutes(before.end):
            raise BadRequestError(
                f"Two blocks on {DAY_NAMES[before.day]} overlap: {before.start}–{before.end} "
                f"and {after.start}–{after.end}. Join them into one or move one."
            )
    return ordered


def _zone(practice: Practice) -> zoneinfo.ZoneInfo:
    """The practice's zone; UTC, said in the log, for a name this machine no longer knows
    (a system update can drop legacy names), so that availability still answers."""
    try:
        return zoneinfo.ZoneInfo(practice.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning(
            "practice %s has a time zone this machine does not know; using UTC until an "
            "admin chooses it again",
            practice.pk,
        )
        return zoneinfo.ZoneInfo("UTC")


def _at(day: dt.date, clock: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant of ``clock`` on ``day`` in ``zone`` ("24:00": the next day's start).
    A time skipped by a clock change is taken with the offset before it, as ``zoneinfo``
    does, so a block never vanishes."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone) + dt.timedelta(minutes=_minutes(clock))
    # Arithmetic on an aware datetime moves the wall clock; its offset is that of the result.
    return local.astimezone(dt.UTC)


def windows(
    blocks: list[OfficeHours], zone: zoneinfo.ZoneInfo, now: dt.datetime
) -> list[WindowBody]:
    """The blocks that end after ``now`` and start within a week of it, as instants."""
    today = now.astimezone(zone).date()
    found = []
    for offset in range(-1, 8):
        day = today + dt.timedelta(days=offset)
        for block in blocks:
            if block.day != day.weekday():
                continue
            start, end = _at(day, block.start, zone), _at(day, block.end, zone)
            # A block inside the hour the clocks skip can end before it starts: that day
            # it does not take place.
            if end > start and end > now and start < now + WEEK:
                found.append(WindowBody(start=start, end=end))
    return sorted(found, key=lambda window: window.start)


def settings_of(row: Availability | None) -> AvailabilitySettings:
    if row is None:
        return AvailabilitySettings(office_hours=[])
    away = (
        AwayBody(starts=row.away_starts, until=row.away_until, note=row.away_note or None)
        if row.away_until is not None
        else None
    )
    return AvailabilitySettings(
        office_hours=[OfficeHours.model_validate(block) for block in row.office_hours],
        reply_time=row.reply_time or None,
        away=away,
        auto_reply=row.auto_reply or None,
    )


def shown(therapist: User, now: dt.datetime | None = None) -> TherapistAvailability:
    """What ``therapist``'s clients see of their availability at ``now``."""
    now = now or timezone.now()
    practice = therapist.practice
    zone = _zone(practice)
    row = Availability.objects.filter(user=therapist).first()
    settings = settings_of(row)
    today = now.astimezone(zone).date()
    away = settings.away
    if away is not None and today >= away.until:
        away = None
    upcoming = away is not None and away.starts is not None and today < away.starts
    blocks = settings.office_hours
    coming = windows(blocks, zone, now)
    open_now = any(w.start <= now < w.end for w in coming) if blocks else None
    return TherapistAvailability(
        therapist=therapist.pk,
        display_name=therapist.display_name,
        time_zone=practice.time_zone,
        reply_time=settings.reply_time or practice.reply_promise,
        office_hours=blocks,
        open_now=open_now,
        windows=coming,
        away=away,
        away_ends_at=_at(away.until, "00:00", zone) if away is not None else None,
        away_upcoming=upcoming,
        auto_reply=settings.auto_reply if away is not None and not upcoming else None,
    )


def change_availability(
    therapist: User, settings: AvailabilitySettings, now: dt.datetime | None = None
) -> AvailabilitySettings:
    """Replaces ``therapist``'s availability with ``settings``, checked, all or none."""
    now = now or timezone.now()
    blocks = check_office_hours(settings.office_hours)
    away = settings.away
    if away is not None:
        today = now.astimezone(_zone(therapist.practice)).date()
        if away.until <= today:
            raise BadRequestError(
                f"The return date {away.until.isoformat()} is not after today "
                f"({today.isoformat()} in the practice's time zone); choose a later day."
            )
        if away.starts is not None and away.starts >= away.until:
            raise BadRequestError("The away time must start before the return date.")
        if away.until - today > MAX_AWAY:
            raise BadRequestError("The return date may be at most a year from today.")
    with transaction.atomic():
        row, _ = Availability.objects.select_for_update().get_or_create(user=therapist)
        row.office_hours = [block.model_dump() for block in blocks]
        row.reply_time = settings.reply_time or ""
        row.away_starts = away.starts if away is not None else None
        row.away_until = away.until if away is not None else None
        row.away_note = (away.note or "") if away is not None else ""
        row.auto_reply = settings.auto_reply or ""
        row.changed_at = now
        row.save()
    return settings_of(row)


@api(methods=("GET", "POST"), roles=(Role.THERAPIST,))
def availability(request: HttpRequest) -> AvailabilityAnswer:
    """``GET``: the therapist's availability and what their clients see of it now.
    ``POST``: replaces it (``AvailabilitySettings``), all or none."""
    user = signed_in_user(request)
    if request.method == "POST":
        body = parse_body(request, AvailabilitySettings)
        change_availability(user, body)
    row = Availability.objects.filter(user=user).first()
    return AvailabilityAnswer(availability=settings_of(row), shown=shown(user))
