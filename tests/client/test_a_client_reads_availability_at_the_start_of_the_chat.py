"""``confide-chat`` shows a client their therapist's availability before they write, in
the terminal's time zone: away until when, with the note, or office hours over and when
they begin again, with the crisis lines; and the reply time."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from confide_client.cli.availability import availability_lines
from protocol.availability import AwayBody, OfficeHours, TherapistAvailability, WindowBody

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
NY = zoneinfo.ZoneInfo("America/New_York")
CRISIS = (("Suicide & Crisis Lifeline (call or text)", "988"), ("Emergency", "911"))
SATURDAY = dt.datetime(2026, 12, 5, 18, 0, tzinfo=dt.UTC)  # 10:00 in Los Angeles


def dana(**changes: object) -> TherapistAvailability:
    windows = [
        WindowBody(
            start=dt.datetime(2026, 12, day, 9, tzinfo=LA),
            end=dt.datetime(2026, 12, day, 17, tzinfo=LA),
        )
        for day in range(7, 12)
    ]
    fields: dict[str, object] = {
        "therapist": 7,
        "display_name": "Dana",
        "time_zone": "America/Los_Angeles",
        "reply_time": "Usually within one business day.",
        "office_hours": [OfficeHours(day=d, start="09:00", end="17:00") for d in range(5)],
        "open_now": False,
        "windows": windows,
        "away": None,
        "away_ends_at": None,
        "away_upcoming": False,
        "auto_reply": None,
    }
    fields.update(changes)
    return TherapistAvailability.model_validate(fields)


def test_outside_office_hours_the_client_is_told_when_they_begin_again() -> None:
    assert availability_lines(dana(), CRISIS, SATURDAY, LA) == [
        "Dana's office hours are over for now; replies may take longer. "
        "Office hours begin again Monday 7 December at 09:00.",
        "If you need help now, do not wait for a reply: "
        "Suicide & Crisis Lifeline (call or text): 988; Emergency: 911.",
        "Usually within one business day. Not for emergencies.",
    ]
    # The same hours in New York's clock.
    assert (
        "begin again Monday 7 December at 12:00."
        in availability_lines(dana(), CRISIS, SATURDAY, NY)[0]
    )


def test_away_until_a_day_with_its_hour_where_the_practices_midnight_is_another() -> None:
    away = dana(
        away=AwayBody(until=dt.date(2026, 12, 7), note="At a conference."),
        away_ends_at=dt.datetime(2026, 12, 7, tzinfo=LA),
    )
    lines = availability_lines(away, CRISIS, SATURDAY, LA)
    assert lines[:2] == [
        "Dana is away until Monday 7 December; replies may take longer.",
        "At a conference.",
    ]
    assert lines[2].startswith("If you need help now")
    assert availability_lines(away, CRISIS, SATURDAY, NY)[0] == (
        "Dana is away until Monday 7 December at 03:00; replies may take longer."
    )


def test_during_office_hours_only_the_reply_time_is_shown() -> None:
    assert availability_lines(dana(open_now=True), CRISIS, SATURDAY, LA) == [
        "Usually within one business day. Not for emergencies."
    ]
    unset = dana(open_now=None, windows=[], office_hours=[])
    assert availability_lines(unset, CRISIS, SATURDAY, LA) == [
        "Usually within one business day. Not for emergencies."
    ]


def test_an_away_time_ahead_is_announced_without_alarm() -> None:
    ahead = dana(
        open_now=True,
        away=AwayBody(starts=dt.date(2026, 12, 21), until=dt.date(2027, 1, 4)),
        away_ends_at=dt.datetime(2027, 1, 4, tzinfo=LA),
        away_upcoming=True,
    )
    assert availability_lines(ahead, CRISIS, SATURDAY, LA) == [
        "Dana will be away from Monday 21 December until Monday 4 January.",
        "Usually within one business day. Not for emergencies.",
    ]
