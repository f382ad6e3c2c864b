"""A practice's settings (DESIGN.md section 6): its name, its time zone, the crisis lines
its clients see beside every conversation, the reply-time promise under their composer,
and how many years a discharged conversation is kept before it is erased.

They are the practice's own words, shown as they are; none of them is message content. The
admin console changes them (``accounts.console``), ``confide create_practice`` sets the
first ones.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.db import transaction

from accounts.models import Practice
from protocol.errors import BadRequestError
from protocol.http import CrisisLineBody, PracticeBody
from protocol.practice import CrisisLine, PracticeSettings


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone this machine knows (``BadRequestError`` naming
    an example otherwise)."""
    if name not in _time_zones():
        raise BadRequestError(
            f"{name!r} is not a time zone name; use one like America/Los_Angeles or UTC."
        )
    return name


def practice_body(practice: Practice) -> PracticeBody:
    """The practice as every member sees it (``/api/me``)."""
    return PracticeBody(
        id=practice.pk,
        name=practice.name,
        time_zone=practice.time_zone,
        crisis_lines=[CrisisLineBody.model_validate(line) for line in practice.crisis_lines],
        reply_promise=practice.reply_promise,
    )


def settings_of(practice: Practice) -> PracticeSettings:
    return PracticeSettings(
        name=practice.name,
        time_zone=practice.time_zone,
        crisis_lines=[CrisisLine.model_validate(line) for line in practice.crisis_lines],
        reply_promise=practice.reply_promise,
        retention_years=practice.retention_years,
    )


def change_settings(practice_id: int, settings: PracticeSettings) -> Practice:
    """Stores the practice's new settings, all or none."""
    check_time_zone(settings.time_zone)
    with transaction.atomic():
        practice = Practice.objects.select_for_update().get(pk=practice_id)
        practice.name = settings.name
        practice.time_zone = settings.time_zone
        practice.crisis_lines = [line.model_dump() for line in settings.crisis_lines]
        practice.reply_promise = settings.reply_promise
        if settings.retention_years is not None:
            practice.retention_years = settings.retention_years
        practice.save(
            update_fields=["name", "time_zone", "crisis_lines", "reply_promise", "retention_years"]
        )
    return practice


__all__ = ["change_settings", "check_time_zone", "practice_body", "settings_of"]
