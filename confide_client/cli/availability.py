"""A therapist's availability as a client reads it at the start of ``confide-chat``, in the
terminal's own time zone: away until when (with the note), or office hours over and when
they begin again, with the practice's crisis lines before anything is written; and the
reply time. The same words as the web client's (``frontend/.../availability.js``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from protocol.availability import TherapistAvailability

__all__ = ["availability_lines"]


def _day(moment: dt.datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B}"


def _clock(moment: dt.datetime) -> str:
    return f"{moment:%H:%M}"


def _relative_day(moment: dt.datetime, now: dt.datetime) -> str:
    if moment.date() == now.date():
        return "today"
    if moment.date() == now.date() + dt.timedelta(days=1):
        return "tomorrow"
    return _day(moment)


def availability_lines(
    availability: TherapistAvailability,
    crisis_lines: Sequence[tuple[str, str]],
    now: dt.datetime,
    zone: dt.tzinfo | None = None,
) -> list[str]:
    """The lines to show, ``now`` and every time in ``zone`` (the machine's own when
    ``None``)."""
    local = now.astimezone(zone)
    name = availability.display_name
    lines: list[str] = []
    urgent = False
    away = availability.away
    if away is not None and not availability.away_upcoming and availability.away_ends_at:
        back = availability.away_ends_at.astimezone(zone)
        midnight = (back.hour, back.minute) == (0, 0)
        when = _day(back) if midnight else f"{_day(back)} at {_clock(back)}"
        lines.append(f"{name} is away until {when}; replies may take longer.")
        if away.note:
            lines.append(away.note)
        urgent = True
    elif availability.open_now is False:
        upcoming = [w.start.astimezone(zone) for w in availability.windows if w.start > now]
        again = (
            f" Office hours begin again {_relative_day(upcoming[0], local)} "
            f"at {_clock(upcoming[0])}."
            if upcoming
            else ""
        )
        lines.append(f"{name}'s office hours are over for now; replies may take longer.{again}")
        urgent = True
    if away is not None and availability.away_upcoming and away.starts is not None:
        lines.append(
            f"{name} will be away from {away.starts:%A} {away.starts.day} {away.starts:%B} "
            f"until {away.until:%A} {away.until.day} {away.until:%B}."
        )
    if urgent and crisis_lines:
        numbers = "; ".join(f"{label}: {number}" for label, number in crisis_lines)
        lines.append(f"If you need help now, do not wait for a reply: {numbers}.")
    lines.append(f"{availability.reply_time} Not for emergencies.")
    return lines
