"""A message written while the network is down waits in the outbox and is delivered
exactly once when the browser is back online."""

from __future__ import annotations

import re
import uuid

from tests.browser.conftest import Conversing, Demo
from tests.browser.pages import expect, message_items, open_conversation, send, sign_in
from tests.browser.server import Server


def test_a_message_sent_offline_is_delivered_exactly_once(
    server: Server,
    demo: Demo,
    conversing: Conversing,
    sent_plaintexts: list[str],
) -> None:
    therapist, client = conversing.therapist, conversing.client
    t, c = therapist.page, client.page

    text = f"Written on the train, no signal {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    c.context.set_offline(True)
    expect(c.locator("#connection")).to_contain_text("offline")
    send(c, text)
    pending = c.locator(".message.mine").filter(has_text=text)
    expect(pending).to_have_attribute("data-state", "queued")
    stored = c.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    assert text not in stored, "the outbox stores ciphertext only"
    assert "ciphertext" in stored
    c.wait_for_timeout(1_500)
    expect(message_items(t, text)).to_have_count(0)

    c.context.set_offline(False)
    expect(message_items(t, text)).to_have_count(1, timeout=10_000)
    expect(pending).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    # Nothing arrives twice, even after a sync and a reload.
    t.wait_for_timeout(1_500)
    expect(message_items(t, text)).to_have_count(1)
    expect(message_items(c, text)).to_have_count(1)
    assert "ciphertext" not in c.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
    t.reload()
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, "Casey Client")
    expect(message_items(t, text)).to_have_count(1)

    therapist.assert_clean()
    client.assert_clean()
