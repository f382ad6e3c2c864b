"""A therapist sets office hours, a reply time, an away status and an automatic reply; their
client, in another time zone, reads them above the composer before writing: outside the
hours, when they begin again in the client's own time and the crisis lines; while the
therapist is away, until when, with the note; after writing, the automatic reply, which is
no message. A schedule that overlaps itself is refused with words and loses nothing typed.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import (
    Page,
    Watched,
    check_accessibility,
    expect,
    message_items,
    screenshot,
    send,
    sign_in,
)
from tests.browser.server import Server

CLIENT_ZONE = "America/New_York"
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

CLEAR = """async () => {
  const csrf = await (await fetch('/api/csrf')).json();
  const answer = await fetch('/api/me/availability', {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf.csrf_token},
    body: JSON.stringify({office_hours: []}),
  });
  return answer.status;
}"""


def add_hours(t: Page, day: str, start: str, end: str) -> None:
    fieldset = t.locator("fieldset.day", has=t.locator("legend", has_text=day))
    fieldset.get_by_role("button", name="Add").click()
    fieldset.locator("input[data-part=start]").last.fill(start)
    fieldset.locator("input[data-part=end]").last.fill(end)


def test_a_client_reads_hours_away_and_the_automatic_reply_in_their_own_time(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    try:
        t.get_by_role("link", name="Office hours and away").click()
        expect(t.get_by_role("heading", name="Availability")).to_be_visible()
        # Hours three days from today (the demo practice keeps UTC): surely not on now.
        now = dt.datetime.now(dt.UTC)
        day = DAYS[(now.weekday() + 3) % 7]
        add_hours(t, day, "09:00", "12:00")
        add_hours(t, day, "11:00", "13:00")
        t.get_by_label("Reply time").fill("Usually within one business day.")
        t.get_by_role("button", name="Save").click()
        expect(t.get_by_role("alert")).to_have_text(
            f"Two blocks on {day} overlap: 09:00–12:00 and 11:00–13:00. "
            "Join them into one or move one."
        )
        # Nothing typed was lost: the second block is still there to correct.
        second_start = t.locator("fieldset.day", has=t.locator("legend", has_text=day)).locator(
            "input[data-part=start]"
        )
        expect(second_start).to_have_count(2)
        second_start.last.fill("13:00")
        t.locator("fieldset.day", has=t.locator("legend", has_text=day)).locator(
            "input[data-part=end]"
        ).last.fill("17:00")
        t.get_by_role("button", name="Save").click()
        expect(t.get_by_role("status").filter(has_text="Saved")).to_be_visible()
        preview = t.locator(".availability-preview")
        expect(preview).to_contain_text("office hours are over")
        expect(preview).not_to_contain_text("null")
        screenshot(t, "availability-settings-desktop")
        t.set_viewport_size({"width": 390, "height": 844})
        t.emulate_media(color_scheme="dark")
        screenshot(t, "availability-settings-phone-dark")
        t.emulate_media(color_scheme="light")
        t.set_viewport_size({"width": 1280, "height": 800})
        check_accessibility(t, "a therapist's availability")

        client = new_page(time_zone=CLIENT_ZONE)
        c = client.page
        sign_in(c, server.url, demo.client.email, demo.client.password)
        banner = c.locator(".availability")
        expect(banner).to_be_visible()
        # 09:00 UTC is 4:00 or 5:00 AM in New York, as the client's clock says.
        opens = dt.datetime.combine(
            (now + dt.timedelta(days=3)).date(), dt.time(9), tzinfo=dt.UTC
        ).astimezone(zoneinfo.ZoneInfo(CLIENT_ZONE))
        expect(banner.locator(".availability-headline")).to_have_text(
            "Dr. Dana Demo's office hours are over for now; replies may take longer. "
            f"Office hours begin again {opens:%A}, {opens:%B} {opens.day} "
            f"at {opens.hour}:00 AM."
        )
        expect(banner.locator(".availability-crisis")).to_contain_text("988")
        expect(c.locator("#composer-hint")).to_have_text(
            "Usually within one business day. Not for emergencies."
        )
        banner.get_by_text("Office hours, in your time").click()
        expect(banner.locator(".availability-hours li")).to_have_count(1)
        screenshot(c, "availability-closed-phone")

        # Away from now until three days on, with a note and an automatic reply.
        t.get_by_label("I am away, or will be").check()
        back = (now + dt.timedelta(days=3)).date()
        t.get_by_label("Back on").fill(back.isoformat())
        t.get_by_label("Note for your clients (optional)").fill("I am at a training.")
        t.get_by_label("Automatic reply while away (optional)").fill(
            "Thank you for writing. I will answer when I am back."
        )
        t.get_by_role("button", name="Save").click()
        expect(t.locator(".availability-preview")).to_contain_text("is away until")

        c.reload()
        sign_in(c, server.url, demo.client.email, demo.client.password)
        back_there = dt.datetime.combine(back, dt.time(), tzinfo=dt.UTC).astimezone(
            zoneinfo.ZoneInfo(CLIENT_ZONE)
        )
        expect(banner.locator(".availability-headline")).to_have_text(
            f"Dr. Dana Demo is away until {back_there:%A}, {back_there:%B} {back_there.day} "
            f"at {back_there.hour - 12}:00 PM; replies may take longer."
        )
        expect(banner.locator(".availability-note")).to_have_text("I am at a training.")
        auto_reply = c.locator(".auto-reply")
        expect(auto_reply).to_be_hidden()
        text = f"Are you there this week? {uuid.uuid4().hex[:6]}"
        sent_plaintexts.append(text)
        send(c, text)
        expect(auto_reply).to_have_text(
            "Automatic reply from Dr. Dana Demo: Thank you for writing. "
            "I will answer when I am back."
        )
        expect(message_items(c, text)).to_have_count(1)
        # The automatic reply is no message: nothing of it is in the therapist's history.
        t.goto(server.url + "/#/")
        t.locator(".inbox-item", has_text="Casey Client").click()
        expect(message_items(t, text)).to_have_count(1)
        expect(message_items(t, "Thank you for writing")).to_have_count(0)
        screenshot(c, "availability-away-phone")
        c.emulate_media(color_scheme="dark")
        screenshot(c, "availability-away-phone-dark")
        c.emulate_media(color_scheme="light")
        check_accessibility(c, "a client reading their therapist's availability")
        # The one refusal asked for: the overlapping schedule.
        refused = [p for p in therapist.problems if "status of 400" in p]
        assert len(refused) == 1, therapist.problems
        therapist.problems[:] = [p for p in therapist.problems if p not in refused]
        for page in (therapist, client):
            page.assert_clean()
    finally:
        assert t.evaluate(CLEAR) == 200
