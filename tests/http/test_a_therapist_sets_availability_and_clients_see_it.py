"""A therapist's availability (accounts/availability.py): office hours in the practice's time
zone, a reply time, an away status with a note and an automatic reply; what the therapist's
clients see of it, as instants for their own time zone; bad schedules refused, whole."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest

from accounts.availability import shown
from accounts.models import Availability, Practice, User
from protocol.availability import OfficeHours
from tests.http.conftest import Browser
from tests.personas import Practice5

pytestmark = pytest.mark.django_db

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
WEEKDAYS = [{"day": day, "start": "09:00", "end": "17:00"} for day in range(5)]


def settings(**changes: Any) -> dict[str, Any]:
    return {"office_hours": WEEKDAYS, **changes}


def in_la(world: Practice5) -> None:
    world.practice.time_zone = "America/Los_Angeles"
    world.practice.save()


def test_a_therapist_sets_hours_away_and_auto_reply_and_the_client_sees_them(
    world: Practice5,
) -> None:
    in_la(world)
    theo = Browser().sign_in_as(world.therapist)
    today = dt.datetime.now(LA).date()
    back = today + dt.timedelta(days=3)
    body = settings(
        reply_time="Usually within one business day.",
        away={"until": back.isoformat(), "note": "At a conference."},
        auto_reply="I am away and will answer when I am back.",
    )
    reply = theo.post("/api/me/availability", body)
    assert reply.status == 200, reply.content
    assert reply.json()["availability"]["away"] == {
        "starts": None,
        "until": back.isoformat(),
        "note": "At a conference.",
    }

    clara = Browser().sign_in_as(world.client)
    seen = clara.get(f"/api/conversations/{world.chat.id}/availability").json()["availability"]
    assert seen["therapist"] == world.therapist.id
    assert seen["display_name"] == "Theo"
    assert seen["reply_time"] == "Usually within one business day."
    assert seen["away"]["until"] == back.isoformat()
    assert seen["away_upcoming"] is False
    assert seen["auto_reply"] == "I am away and will answer when I am back."
    # The return is the start of that day in the practice's zone, as an instant.
    ends = dt.datetime.fromisoformat(seen["away_ends_at"])
    assert ends == dt.datetime.combine(back, dt.time(), tzinfo=LA)
    assert len(seen["windows"]) in (5, 6)  # a week of weekdays, today's perhaps twice over
    assert isinstance(seen["open_now"], bool)


def test_without_settings_the_client_sees_the_practice_promise_and_no_hours(
    world: Practice5,
) -> None:
    clara = Browser().sign_in_as(world.client)
    seen = clara.get(f"/api/conversations/{world.chat.id}/availability").json()["availability"]
    assert seen["reply_time"] == world.practice.reply_promise
    assert (seen["open_now"], seen["windows"], seen["away"], seen["auto_reply"]) == (
        None,
        [],
        None,
        None,
    )


def test_an_away_time_ahead_shows_as_upcoming_without_the_auto_reply(world: Practice5) -> None:
    in_la(world)
    today = dt.datetime.now(LA).date()
    theo = Browser().sign_in_as(world.therapist)
    away = {
        "starts": (today + dt.timedelta(days=2)).isoformat(),
        "until": (today + dt.timedelta(days=9)).isoformat(),
    }
    assert theo.post("/api/me/availability", settings(away=away, auto_reply="Away.")).status == 200
    seen = shown(User.objects.get(pk=world.therapist.id))
    assert seen.away_upcoming is True
    assert seen.auto_reply is None


def test_an_away_time_that_has_passed_is_no_longer_shown(world: Practice5) -> None:
    in_la(world)
    Availability.objects.create(
        user_id=world.therapist.id,
        away_until=dt.date(2020, 1, 6),
        away_note="Back on Monday.",
        auto_reply="Away.",
    )
    seen = shown(User.objects.get(pk=world.therapist.id))
    assert (seen.away, seen.away_ends_at, seen.auto_reply) == (None, None, None)


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        (
            [
                {"day": 0, "start": "09:00", "end": "12:00"},
                {"day": 0, "start": "11:00", "end": "13:00"},
            ],
            "Two blocks on Monday overlap: 09:00–12:00 and 11:00–13:00",
        ),
        ([{"day": 2, "start": "17:00", "end": "09:00"}], "on Wednesday from 17:00 ends at 09:00"),
        ([{"day": 4, "start": "10:00", "end": "10:00"}], "on Friday from 10:00 ends at 10:00"),
        ([{"day": 6, "start": "24:00", "end": "24:00"}], "starts at 24:00"),
    ],
)
def test_an_overlapping_or_backwards_schedule_is_refused_whole(
    world: Practice5, hours: list[dict[str, Any]], words: str
) -> None:
    theo = Browser().sign_in_as(world.therapist)
    assert theo.post("/api/me/availability", settings()).status == 200
    reply = theo.post("/api/me/availability", {"office_hours": hours})
    assert (reply.status, reply.code) == (400, "bad_request")
    assert words in reply.json()["error"]["message"]
    # Nothing of the refused schedule was kept.
    kept = theo.get("/api/me/availability").json()["availability"]["office_hours"]
    assert kept == WEEKDAYS


@pytest.mark.parametrize(
    "body",
    [
        {"office_hours": [{"day": 7, "start": "09:00", "end": "10:00"}]},
        {"office_hours": [{"day": 1, "start": "9:00", "end": "10:00"}]},
        {"office_hours": [{"day": 1, "start": "09:00", "end": "24:01"}]},
        {"office_hours": [{"day": "1", "start": "09:00", "end": "10:00"}]},
        {"office_hours": [{"day": 1, "start": "09:00", "end": "10:00"}] * 22},
        {"office_hours": [], "away": {"until": "next monday"}},
        {"office_hours": [], "away": {"until": "2026-02-30"}},
        {"office_hours": [], "reply_time": "line\nbreak"},
        {"office_hours": [], "auto_reply": "x" * 301},
        {"office_hours": [], "away": {"until": "2030-01-01", "note": "\u202eevil"}},
        {"office_hours": [], "surprise": True},
        {},
    ],
)
def test_malformed_availability_gets_a_clear_error(world: Practice5, body: dict[str, Any]) -> None:
    reply = Browser().sign_in_as(world.therapist).post("/api/me/availability", body)
    assert (reply.status, reply.code) == (400, "bad_request"), reply.content
    assert reply.json()["error"]["message"].startswith("Invalid request")
    assert not Availability.objects.filter(user_id=world.therapist.id).exists()


def test_a_return_date_that_has_passed_or_is_too_far_is_refused(world: Practice5) -> None:
    in_la(world)
    today = dt.datetime.now(LA).date()
    theo = Browser().sign_in_as(world.therapist)
    for until, words in (
        (today, "is not after today"),
        (today + dt.timedelta(days=400), "at most a year"),
    ):
        reply = theo.post("/api/me/availability", settings(away={"until": until.isoformat()}))
        assert (reply.status, reply.code) == (400, "bad_request")
        assert words in reply.json()["error"]["message"]
    starts_late = {
        "starts": (today + dt.timedelta(days=5)).isoformat(),
        "until": (today + dt.timedelta(days=5)).isoformat(),
    }
    reply = theo.post("/api/me/availability", settings(away=starts_late))
    assert "must start before the return date" in reply.json()["error"]["message"]


def test_only_therapists_set_availability_and_only_members_read_it(world: Practice5) -> None:
    for person in (world.client, world.admin):
        reply = Browser().sign_in_as(person).post("/api/me/availability", settings())
        assert (reply.status, reply.code) == (403, "forbidden")
    assert Browser().get("/api/me/availability").status == 401
    for person in world.outsiders().values():
        reply = Browser().sign_in_as(person).get(f"/api/conversations/{world.chat.id}/availability")
        assert (reply.status, reply.code) == (404, "not_found")
    # The therapist reads their own conversation's too, as the client does.
    reply = (
        Browser()
        .sign_in_as(world.therapist)
        .get(f"/api/conversations/{world.chat.id}/availability")
    )
    assert reply.json()["availability"]["therapist"] == world.therapist.id


def test_hours_follow_daylight_saving_time_as_the_office_does() -> None:
    """9:00 in Los Angeles is 17:00 UTC in winter and 16:00 UTC in summer; the week that
    the clocks change has blocks of both."""
    from accounts.availability import windows

    monday_to_friday = [OfficeHours(day=day, start="09:00", end="17:00") for day in range(5)]
    # Friday 6 March 2026, noon in Los Angeles; the clocks go forward on Sunday 8 March.
    now = dt.datetime(2026, 3, 6, 12, 0, tzinfo=LA)
    found = windows(monday_to_friday, LA, now)
    starts = [w.start.astimezone(dt.UTC) for w in found]
    assert starts[0] == dt.datetime(2026, 3, 6, 17, 0, tzinfo=dt.UTC)  # today, open now
    assert starts[1] == dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC)  # Monday, summer time
    assert len(found) == 6  # next Friday's starts within the week too
    assert found[0].start <= now < found[0].end


def test_a_block_that_ends_at_midnight_ends_at_the_next_days_start() -> None:
    from accounts.availability import windows

    late = [OfficeHours(day=5, start="20:00", end="24:00")]
    # Saturday 7 November 2026, 23:30 in Los Angeles; Sunday 1 November was the change.
    now = dt.datetime(2026, 11, 7, 23, 30, tzinfo=LA)
    (first, second) = windows(late, LA, now)
    assert first.start <= now < first.end
    assert first.end == dt.datetime(2026, 11, 8, 0, 0, tzinfo=LA)
    assert second.start == dt.datetime(2026, 11, 14, 20, 0, tzinfo=LA)


def test_a_block_inside_the_skipped_hour_does_not_take_place_that_day() -> None:
    from accounts.availability import windows

    new_york = zoneinfo.ZoneInfo("America/New_York")
    sunday = [
        OfficeHours(day=6, start="02:15", end="03:00"),
        OfficeHours(day=6, start="10:00", end="11:00"),
    ]
    # Saturday 7 March 2026; the clocks go from 02:00 to 03:00 on Sunday 8 March.
    found = windows(sunday, new_york, dt.datetime(2026, 3, 7, 12, tzinfo=new_york))
    assert [(w.start, w.end) for w in found] == [
        (dt.datetime(2026, 3, 8, 10, tzinfo=new_york), dt.datetime(2026, 3, 8, 11, tzinfo=new_york))
    ]


def test_a_time_zone_the_machine_no_longer_knows_falls_back_to_utc(world: Practice5) -> None:
    Practice.objects.filter(pk=world.practice.pk).update(time_zone="Mars/Olympus_Mons")
    reply = (
        Browser().sign_in_as(world.client).get(f"/api/conversations/{world.chat.id}/availability")
    )
    assert reply.status == 200, reply.content
    assert reply.json()["availability"]["time_zone"] == "Mars/Olympus_Mons"
