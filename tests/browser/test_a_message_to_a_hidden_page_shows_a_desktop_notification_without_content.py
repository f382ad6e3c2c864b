"""A client turns on desktop notifications in Settings (with the browser's permission);
while their page is hidden, their therapist writes: a notification appears that says only
that a secure message is waiting, with no name and no word of the message. Turned off, a
message brings none."""

from __future__ import annotations

import uuid

from tests.browser.conftest import Conversing
from tests.browser.pages import check_accessibility, expect, screenshot, send
from tests.browser.server import Server

HIDE = """() => {
  Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
  Object.defineProperty(document, 'hidden', { get: () => true, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}"""

NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body }));
}"""

CLOSE_ALL = """async () => {
  const registration = await navigator.serviceWorker.ready;
  for (const n of await registration.getNotifications()) n.close();
}"""


def test_a_hidden_page_shows_a_notification_without_content(
    server: Server, conversing: Conversing, sent_plaintexts: list[str]
) -> None:
    client = conversing.client.page
    client.context.grant_permissions(["notifications"], origin=server.url)
    conversation = client.url
    client.goto(server.url + "/#/security")
    switch = client.get_by_label(
        "Show a notification and play a sound when a message arrives in the background"
    )
    switch.check()
    expect(client.get_by_text("Desktop notifications and sound are on.")).to_be_visible()
    check_accessibility(client, "the settings with notifications on")
    screenshot(client, "settings-notifications")
    client.emulate_media(color_scheme="dark")
    screenshot(client, "settings-notifications-dark")
    client.set_viewport_size({"width": 1280, "height": 800})
    screenshot(client, "settings-notifications-desktop-dark")
    client.emulate_media(color_scheme="light")
    client.set_viewport_size({"width": 420, "height": 860})
    client.goto(conversation)
    client.evaluate(CLOSE_ALL)
    client.evaluate(HIDE)

    text = f"I'm feeling really anxious tonight {uuid.uuid4().hex[:6]}"
    sent_plaintexts.append(text)
    send(conversing.therapist.page, text)

    shown: list[dict[str, str]] = []
    for _ in range(100):
        shown = client.evaluate(NOTIFICATIONS)
        if shown:
            break
        client.wait_for_timeout(100)
    assert shown == [{"title": "Confide", "body": "A secure message is waiting"}]
    for page in (conversing.client, conversing.therapist):
        page.assert_clean()


def test_with_the_switch_off_a_hidden_page_shows_none(
    server: Server, conversing: Conversing, sent_plaintexts: list[str]
) -> None:
    client = conversing.client.page
    client.context.grant_permissions(["notifications"], origin=server.url)
    client.evaluate("() => navigator.serviceWorker.ready")
    client.evaluate(CLOSE_ALL)
    client.evaluate(HIDE)

    text = f"Nobody asked to be told {uuid.uuid4().hex[:6]}"
    sent_plaintexts.append(text)
    send(conversing.therapist.page, text)

    client.wait_for_timeout(3000)
    assert client.evaluate(NOTIFICATIONS) == []
