"""Message text is text: markup in a message is shown literally and never runs."""

from __future__ import annotations

from tests.browser.conftest import Conversing
from tests.browser.pages import expect, message_items, send

PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=2</script><b>bold?</b>",
    '<svg onload="window.__pwned=3"></svg> & &amp; "quotes"',
]


def test_html_in_a_message_is_shown_as_text(
    conversing: Conversing,
    sent_plaintexts: list[str],
) -> None:
    therapist, client = conversing.therapist, conversing.client
    t, c = therapist.page, client.page

    for payload in PAYLOADS:
        sent_plaintexts.append(payload)
        send(c, payload)
        expect(message_items(t, payload)).to_have_count(1)
        expect(message_items(c, payload)).to_have_count(1)
    for page in (t, c):
        texts = page.locator(".message-text").all_text_contents()
        for payload in PAYLOADS:
            assert payload in texts
        assert (
            page.locator(".message-list img, .message-list script, .message-list svg").count() == 0
        )
        assert page.evaluate("typeof window.__pwned") == "undefined"

    therapist.assert_clean()
    client.assert_clean()
