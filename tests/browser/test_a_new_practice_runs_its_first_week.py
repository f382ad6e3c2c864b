"""One practice's first week, in Chromium, against a server started from nothing (an empty
database, migrated; in CI PostgreSQL and Redis; no demo accounts), as one continuous walk:

``confide create_practice`` → the admin signs up and sets up an authenticator app → adds a
therapist, who signs up with a passkey (a virtual authenticator) → invites two clients →
they converse; one client forgets the password and gets everything back with the recovery
key in a new browser; the other loses both and gets the history back through assisted
recovery in two browsers; a stranger guessing the therapist's password from the same
address does not keep the therapist (in their own browser) or a client out; the admin
forgets their password and gets back in with the recovery key *and* their app's code; an
agreement change makes a client accept again before their next message. At the end the
server's database holds none of the words typed.

WebAuthn takes a domain name as the relying party, so the portal is opened at
``localhost``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import authenticator
from tests.browser.pages import (
    Page,
    Watched,
    accept_agreement,
    ask_for_assisted_recovery,
    check_accessibility,
    enrol_authenticator_app,
    enter_code,
    expect,
    join_through_link,
    message_items,
    open_conversation,
    screenshot,
    send,
    sign_in,
    to_inbox,
)
from tests.browser.server import Server, make_server
from tests.browser.test_a_passkey_is_added_and_signs_in import virtual_authenticator

pytestmark = pytest.mark.timeout(600)

LINK = re.compile(r"^  (http://\S+/setup#[A-Za-z0-9_-]+)$", re.MULTILINE)
PASSWORD = "morning tide along the quay"
NEW_PASSWORD = "a second lantern by the door"


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[Server]:
    """A server of its own on an empty, migrated database: nothing seeded."""
    server = make_server(tmp_path / "first-week")
    try:
        server.process = server.stack.start_server()
        yield server
    finally:
        server.stop()


def recover_with_key(page: Page, base: str, email: str, key: str) -> None:
    """ "Forgot your password?" in a new browser: the email, the key, a new password."""
    page.goto(base + "/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Recovery key").fill(key)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type the new password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()


def sign_in_with_passkey(page: Page, base: str, email: str, password: str) -> None:
    if not page.url.startswith(base):
        page.goto(base + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="Use a passkey").click()


def sent(page: Page, text: str, typed: list[str]) -> None:
    typed.append(text)
    send(page, text)
    expect(page.locator(".message.mine").filter(has_text=text)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$"), timeout=15_000
    )


def test_a_new_practice_runs_its_first_week(
    empty_server: Server, new_page: Callable[..., Watched]
) -> None:
    server = empty_server
    base = server.url.replace("127.0.0.1", "localhost")
    suffix = uuid.uuid4().hex[:6]
    typed: list[str] = []
    pages: list[Watched] = []

    def browser(width: int = 420, height: int = 860) -> Watched:
        page = new_page(width, height)
        pages.append(page)
        return page

    # --- the operator: a practice and its first admin's link -----------------------------
    admin_email = f"ada-{suffix}@tide.invalid"
    printed = server.stack.manage(
        "create_practice",
        "--name",
        "Tide Counselling",
        "--time-zone",
        "America/Chicago",
        "--admin-email",
        admin_email,
        "--url",
        base,
    )
    found = LINK.search(printed)
    assert found is not None, printed

    # --- the admin signs up with an authenticator app --------------------------------------
    admin = browser(1280, 860)
    a = admin.page
    admin_key = join_through_link(a, found.group(1), PASSWORD, name="Ada Tide")
    expect(a.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    admin_secret, _ = enrol_authenticator_app(a)
    authenticator.register(base, admin_email, admin_secret)
    expect(a.get_by_role("heading", name="People · Tide Counselling")).to_be_visible()

    # --- a therapist, who signs up with a passkey ----------------------------------------
    theo_email = f"theo-{suffix}@tide.invalid"
    a.get_by_label("Name", exact=True).fill("Dr. Theo Tide")
    a.get_by_label("Email").fill(theo_email)
    a.get_by_role("button", name="Create setup link").click()
    setup_field = a.get_by_role("textbox", name="Setup link for Dr. Theo Tide")
    expect(setup_field).to_have_value(re.compile(r"/setup#[A-Za-z0-9_-]{20,}$"))
    theo_link = setup_field.input_value()

    therapist = browser(1280, 860)
    t = therapist.page
    cdp, authenticator_id = virtual_authenticator(therapist)
    join_through_link(t, theo_link, PASSWORD)
    expect(t.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    t.get_by_role("button", name="Add a passkey").click()
    t.get_by_label("Name of the passkey").fill("Office desktop")
    t.get_by_role("button", name="Create the passkey").click()
    expect(t.get_by_role("heading", name="Your recovery codes")).to_be_visible(timeout=15_000)
    t.get_by_label("I have saved my recovery codes").check()
    t.get_by_role("button", name="Continue").click()
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1

    # --- two clients join and converse ------------------------------------------------------
    links: dict[str, str] = {}
    for name in ("Robin", "Quinn"):
        t.get_by_label("Client's name").fill(name)
        t.get_by_role("button", name="Create invitation link").click()
        field = t.get_by_label(f"Invitation link for {name}")
        expect(field).to_have_value(re.compile(r"/invite#"))
        links[name] = field.input_value()
    robin_email, quinn_email = f"robin-{suffix}@mail.invalid", f"quinn-{suffix}@mail.invalid"

    robin = browser()
    r = robin.page
    robin_key = join_through_link(r, links["Robin"], PASSWORD, email=robin_email)
    accept_agreement(r)
    sent(r, f"Robin's first message {suffix}", typed)
    quinn = browser()
    q = quinn.page
    join_through_link(q, links["Quinn"], PASSWORD, email=quinn_email)  # the key is lost later
    accept_agreement(q)
    sent(q, f"Quinn's first message {suffix}", typed)

    open_conversation(t, "Robin")
    expect(message_items(t, f"Robin's first message {suffix}")).to_have_count(1)
    sent(t, f"Theo answers Robin {suffix}", typed)
    expect(message_items(r, f"Theo answers Robin {suffix}")).to_have_count(1)
    to_inbox(t)
    open_conversation(t, "Quinn")
    sent(t, f"Theo answers Quinn {suffix}", typed)
    expect(message_items(q, f"Theo answers Quinn {suffix}")).to_have_count(1)
    to_inbox(t)
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()

    # --- Robin forgets the password: the recovery key, in a new browser --------------------
    robin_new = browser()
    rn = robin_new.page
    recover_with_key(rn, base, robin_email, robin_key)
    expect(rn.get_by_role("heading", name="Dr. Theo Tide")).to_be_visible(timeout=15_000)
    for text in (f"Robin's first message {suffix}", f"Theo answers Robin {suffix}"):
        expect(message_items(rn, text)).to_have_count(1)
    expect(rn.locator(".message.unopened")).to_have_count(0)
    sent(rn, f"Robin, after recovering {suffix}", typed)
    expect(r.get_by_role("heading", name="Sign in")).to_be_visible(timeout=15_000)
    open_conversation(t, "Robin")
    expect(message_items(t, f"Robin, after recovering {suffix}")).to_have_count(1)
    expect(t.locator(".conversation .banner").filter(has_text="security keys")).to_be_hidden()
    to_inbox(t)

    # --- Quinn loses both: assisted recovery in two browsers --------------------------------
    quinn_new = browser()
    qn = quinn_new.page
    qn.goto(base + "/recover#assisted")
    expect(qn.get_by_role("heading", name="Lost your recovery key too?")).to_be_visible()
    number = ask_for_assisted_recovery(qn, quinn_email, NEW_PASSWORD)
    notice = t.get_by_role("link", name="Quinn asked to recover their account")
    expect(notice).to_be_visible(timeout=15_000)
    notice.click()
    expect(t.get_by_role("heading", name="Quinn asked to recover their account")).to_be_visible()
    expect(t.locator(".identity-digits span")).to_have_text(number)
    t.get_by_label(re.compile("all six groups match")).check()
    t.get_by_role("button", name="Confirm and give Quinn their messages back").click()
    expect(t.get_by_role("heading", name="Quinn", exact=True)).to_be_visible(timeout=15_000)
    expect(t.locator(".identity-note")).to_contain_text("account recovery confirmed by you on")
    expect(q.get_by_role("heading", name="Sign in")).to_be_visible(timeout=15_000)
    qn.get_by_role("link", name="Go to sign-in").click()
    sign_in(qn, base, quinn_email, NEW_PASSWORD)
    for text in (f"Quinn's first message {suffix}", f"Theo answers Quinn {suffix}"):
        expect(message_items(qn, text)).to_have_count(1)
    expect(qn.locator(".message.unopened")).to_have_count(0)
    sent(qn, f"Quinn, with new keys {suffix}", typed)
    expect(message_items(t, f"Quinn, with new keys {suffix}")).to_have_count(1)
    to_inbox(t)

    # --- a stranger guesses Theo's password from the same address ---------------------------
    stranger = browser()
    s = stranger.page
    s.goto(base + "/")
    refused = False
    for attempt in range(8):
        s.get_by_label("Email").fill(theo_email)
        s.get_by_label("Password").fill(f"guess number {attempt}")
        s.get_by_role("button", name="Sign in").click()
        alert = s.locator("#signin-error")
        expect(alert).not_to_be_empty(timeout=15_000)
        if "Too many attempts" in alert.inner_text():
            refused = True
            break
    assert refused, "the guesser is stopped"
    # Theo, in his own browser, at the same address, signs in at once; so does Robin.
    t.get_by_role("button", name="Sign out").click()
    sign_in_with_passkey(t, base, theo_email, PASSWORD)
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible(timeout=15_000)
    rn.get_by_role("button", name="Sign out").click()
    sign_in(rn, base, robin_email, NEW_PASSWORD)
    expect(rn.get_by_role("heading", name="Dr. Theo Tide")).to_be_visible(timeout=15_000)

    # --- the admin forgets their password: the recovery key and the app's code --------------
    admin_new = browser(1280, 860)
    an = admin_new.page
    recover_with_key(an, base, admin_email, admin_key)
    expect(an.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
    screenshot(an, "recover-second-factor")
    check_accessibility(an, "recovery, second factor")
    enter_code(an, authenticator.code_for(base, admin_email))
    expect(an.get_by_role("heading", name="People · Tide Counselling")).to_be_visible(
        timeout=15_000
    )
    expect(a.get_by_role("heading", name="Sign in")).to_be_visible(timeout=15_000)

    # --- a new agreement: Robin accepts it before the next message goes ---------------------
    an.get_by_role("link", name="Messaging agreement").click()
    section = an.get_by_label("Text").first
    section.fill(section.input_value() + "\n\nWe read messages on weekdays.")
    an.get_by_role("button", name="Publish as a new version").click()
    expect(an.get_by_role("status").filter(has_text="is published")).to_be_visible()
    later = f"Robin, after the new agreement {suffix}"
    typed.append(later)
    send(rn, later)
    expect(rn.get_by_text("We read messages on weekdays.")).to_be_visible(timeout=15_000)
    accept_agreement(rn)
    open_conversation(t, "Robin")
    expect(message_items(t, later)).to_have_count(1, timeout=15_000)
    an.get_by_role("link", name="People").click()
    an.get_by_role("link", name="Messaging agreement").click()
    expect(an.locator("tr", has_text="Robin")).to_be_visible()

    # --- what the server kept ---------------------------------------------------------------
    dump = server.database_dump()
    leaked = [word for word in typed if word.encode() in dump]
    assert not leaked, f"plaintext in the database: {leaked}"
    assert f"Robin's first message {suffix}".encode() not in dump
    assert admin_email.encode() in dump, "the dump is searchable (the email is stored)"
    for page in pages:
        if page is not stranger:  # whose refused guesses the console reports
            page.assert_clean()
