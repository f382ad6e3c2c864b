"""Assisted recovery in two browsers: a client who lost both their password and their
recovery key makes new keys in a new browser, which shows their new number; their
therapist sees the request in the inbox, compares the number, and confirms. The client's
old session ends, they sign in with the new password and read their whole history, and
write; the therapist reads it, with no alarm but a note naming the recovery they
confirmed, and their browser began a new epoch for the new keys."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import (
    Page,
    Watched,
    accept_agreement,
    ask_for_assisted_recovery,
    check_accessibility,
    expect,
    message_items,
    open_conversation,
    screenshot,
    send,
    sign_in,
    to_inbox,
)
from tests.browser.server import Server

OLD_PASSWORD = "an old kettle singing softly"
NEW_PASSWORD = "seven paper boats at noon"


def sign_up(page: Page, link: str, name: str, email: str) -> None:
    """The client accepts the invitation (the recovery key they are shown is lost later)."""
    page.goto(link)
    expect(page.get_by_label("Your name")).to_have_value(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Choose a password").fill(OLD_PASSWORD)
    page.get_by_label("Type the password again").fill(OLD_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", name="Your recovery key")).to_be_visible(timeout=15_000)
    last = page.locator(".recovery-key span").all_inner_texts()[-1]
    page.get_by_label("Type the last group of your recovery key").fill(last)
    page.get_by_role("button", name=re.compile("I have saved it")).click()
    accept_agreement(page)


def test_a_client_who_lost_everything_is_recovered_by_their_therapist(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    therapist = new_page()
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    suffix = uuid.uuid4().hex[:6]
    name = f"Quinn {suffix}"
    email = f"quinn-{suffix}@example.invalid"
    t.get_by_label("Client's name").fill(name)
    t.get_by_role("button", name="Create invitation link").click()
    link_field = t.get_by_label(f"Invitation link for {name}")
    expect(link_field).to_have_value(re.compile(r"/invite#"))
    link = link_field.input_value()

    # The client's first browser: a conversation with some history.
    old = new_page()
    o = old.page
    sign_up(o, link, name, email)
    history = [f"Before I lost everything, one {suffix}", f"Before I lost everything, two {suffix}"]
    for text in history:
        sent_plaintexts.append(text)
        send(o, text)
        expect(o.locator(".message.mine").filter(has_text=text)).to_have_attribute(
            "data-state", re.compile("^(sent|read)$")
        )
    open_conversation(t, name)
    reply = f"Thank you for writing, {suffix}"
    sent_plaintexts.append(reply)
    send(t, reply)
    expect(message_items(o, reply)).to_have_count(1)
    to_inbox(t)
    expect(t.get_by_role("heading", name="Your clients")).to_be_visible()

    # A new browser, no password, no recovery key: new keys, and the number to show.
    fresh = new_page()
    f = fresh.page
    f.goto(server.url + "/")
    f.get_by_role("link", name="Forgot your password?").click()
    f.get_by_role("link", name="I have lost my recovery key too").click()
    expect(f.get_by_role("heading", name="Lost your recovery key too?")).to_be_visible()
    check_accessibility(f, "assisted recovery form")
    client_groups = ask_for_assisted_recovery(f, email, NEW_PASSWORD)
    screenshot(f, "assisted-recovery-number")
    check_accessibility(f, "assisted recovery number")
    # Nothing changed yet: the old browser is still signed in and can write.
    meanwhile = f"Still here before the confirmation, {suffix}"
    sent_plaintexts.append(meanwhile)
    send(o, meanwhile)
    expect(o.locator(".message.mine").filter(has_text=meanwhile)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$")
    )

    # The therapist's inbox shows the request (told by the server's event), and the same
    # number; they compare it and confirm.
    notice = t.get_by_role("link", name=f"{name} asked to recover their account")
    expect(notice).to_be_visible(timeout=5_000)
    assert therapist.frames_of("received", "recovery_requested"), "told, not polled"
    screenshot(t, "inbox-recovery-waiting")
    check_accessibility(t, "inbox with a recovery waiting")
    notice.click()
    expect(t.get_by_role("heading", name=f"{name} asked to recover their account")).to_be_visible()
    assert t.locator(".identity-digits span").all_inner_texts() == client_groups
    check_accessibility(t, "recovery to confirm")
    confirm = t.get_by_role("button", name=f"Confirm and give {name} their messages back")
    confirm.click()
    expect(t.get_by_role("alert")).to_contain_text("tick the box")
    t.get_by_label(re.compile("all six groups match")).check()
    screenshot(t, "recovery-confirm")
    confirm.click()

    # The therapist's browser is back in the conversation, with a calm note and no alarm,
    # and began a new epoch for the new keys.
    expect(t.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=15_000)
    note = t.locator(".identity-note")
    expect(note).to_contain_text("account recovery confirmed by you on")
    expect(t.locator(".conversation .banner").filter(has_text="security keys")).to_be_hidden()
    rekeys = [frame for _, frame in therapist.frames_of("sent", "rekey")]
    assert rekeys and rekeys[-1]["epoch"] >= 1, "a new epoch began right after confirming"

    # The old browser's session ended.
    expect(o.get_by_role("heading", name="Sign in")).to_be_visible(timeout=15_000)
    expect(o.get_by_text("Your session ended")).to_be_visible()

    # The client signs in with the new password in the new browser: the whole history.
    f.get_by_role("link", name="Go to sign-in").click()
    sign_in(f, server.url, email, NEW_PASSWORD)
    expect(f.get_by_role("heading", name="Dr. Dana Demo")).to_be_visible(timeout=15_000)
    for text in [*history, reply, meanwhile]:
        expect(message_items(f, text)).to_have_count(1)
    expect(f.locator(".message.unopened")).to_have_count(0)
    after = f"Written with my new keys, {suffix}"
    sent_plaintexts.append(after)
    send(f, after)
    expect(f.locator(".message.mine").filter(has_text=after)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$")
    )
    screenshot(f, "assisted-recovery-history")

    # The therapist reads it; the note still names the confirmed recovery.
    expect(message_items(t, after)).to_have_count(1)
    expect(note).to_contain_text(f"{name}'s keys are new since an account recovery")
    for text in [*history, meanwhile]:
        expect(message_items(t, text)).to_have_count(1)
    expect(t.locator(".message.unopened")).to_have_count(0)

    # After a reload, the therapist's browser still opens the history signed with the
    # client's old keys (the succession it signed names the earlier identity), with no alarm.
    t.reload()
    expect(t.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, name)
    for text in [*history, meanwhile, after]:
        expect(message_items(t, text)).to_have_count(1)
    expect(t.locator(".message.unopened")).to_have_count(0)
    expect(t.locator(".identity-note")).to_contain_text("confirmed by you")

    for page in (therapist, old, fresh):
        page.assert_clean()
