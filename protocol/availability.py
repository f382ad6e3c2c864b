"""A therapist's availability (docs/protocol.md, "Availability"): office hours, the reply
time they promise, and an away status with its return date, a note and an automatic reply.

These are the therapist's own words and hours, shown to their clients as they are; none of
them is message content, and the server reads them like the practice's settings. Hours are
wall-clock times in the practice's time zone; the server turns them into instants for the
coming week (:class:`WindowBody`), so that each browser shows them in its own time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, PlainSerializer

from protocol.common import Strict, Time, UserId
from protocol.http import TEXT_FORBIDDEN

__all__ = [
    "MAX_OFFICE_HOURS",
    "AvailabilityAnswer",
    "AvailabilitySettings",
    "AwayBody",
    "OfficeHours",
    "TherapistAvailability",
    "TherapistAvailabilityAnswer",
    "WindowBody",
]

# Enough for split days all week (three blocks a day), few enough to check at a glance.
MAX_OFFICE_HOURS = 21

# "HH:MM", 24-hour; "24:00" only ends a block (the end of that day).
ClockTime = Annotated[str, Field(pattern=r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]
# Monday is 0, as Python's ``date.weekday()`` counts.
Weekday = Annotated[int, Field(ge=0, le=6)]
# A line people read: no control, invisible or direction characters, no space at either end.
Note = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        pattern=rf"^[^\s{TEXT_FORBIDDEN}](?:[^{TEXT_FORBIDDEN}]*[^\s{TEXT_FORBIDDEN}])?$",
    ),
]
# A calendar date, "YYYY-MM-DD" (JSON has no date type; strict mode takes it as text).
Day = Annotated[
    dt.date,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    Field(json_schema_extra={"format": "date"}),
]


class OfficeHours(Strict):
    """One block of office hours: a weekday, and a start before its end on that day, as
    wall-clock times in the practice's time zone."""

    day: Weekday
    start: ClockTime
    end: ClockTime


class AwayBody(Strict):
    """Away from the start of ``starts`` (``null``: from now) until the start of ``until``,
    days in the practice's time zone: ``until`` is the day the therapist is back. ``note``
    is shown to clients with it."""

    starts: Day | None = None
    until: Day
    note: Note | None = None


class AvailabilitySettings(Strict):
    """``GET``/``POST /api/me/availability`` (therapists): the whole availability, replaced
    at once. ``reply_time`` ``null`` is the practice's promise; ``away`` ``null`` is not
    away; ``auto_reply`` is shown to a client who writes while the therapist is away."""

    office_hours: Annotated[list[OfficeHours], Field(max_length=MAX_OFFICE_HOURS)]
    reply_time: Note | None = None
    away: AwayBody | None = None
    auto_reply: Note | None = None


class WindowBody(Strict):
    """A block of office hours as two instants, for the browser's own time zone."""

    start: Time
    end: Time


class TherapistAvailability(Strict):
    """What a client sees of their therapist's availability: the reply time (the
    practice's promise unless the therapist set one), whether the therapist is away and
    until when (``ends_at``: the instant they are back), the automatic reply while away,
    and, if they set office hours, whether those are on now and the blocks of the coming
    seven days (``windows``). ``away`` is given while it holds or lies ahead
    (``away_upcoming``), and never once it has passed."""

    therapist: UserId
    display_name: str
    time_zone: str
    reply_time: str
    office_hours: list[OfficeHours]
    open_now: bool | None
    windows: list[WindowBody]
    away: AwayBody | None
    away_ends_at: Time | None
    away_upcoming: bool
    auto_reply: str | None


class AvailabilityAnswer(Strict):
    """``GET``/``POST /api/me/availability``: the therapist's settings and what their
    clients see of them now."""

    availability: AvailabilitySettings
    shown: TherapistAvailability


class TherapistAvailabilityAnswer(Strict):
    """``GET /api/conversations/<id>/availability``: the availability of the
    conversation's therapist (``null`` in a conversation without one)."""

    availability: TherapistAvailability | None
