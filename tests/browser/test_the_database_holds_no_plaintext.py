"""The canary: after real conversations in real browsers, the server's database holds none
of what was typed. Runs after the other browser tests (see conftest), so it scans for
every message they sent as well as its own."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

from tests.browser.conftest import Demo
from tests.browser.pages import Watched, expect, message_items, open_conversation, send, sign_in
from tests.browser.server import Server


def spellings(text: str) -> list[bytes]:
    raw = text.encode("utf-8")
    return [
        raw,
        text.encode("utf-16-le"),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    ]


def test_the_database_holds_no_plaintext(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    canary = f"canary {uuid.uuid4().hex} — my secret is safe"
    therapist = new_page()
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    open_conversation(t, "Casey Client")
    send(t, canary)
    client = new_page()
    c = client.page
    sign_in(c, server.url, demo.client.email, demo.client.password)
    expect(message_items(c, canary)).to_have_count(1)

    dump = server.database_dump()
    assert len(dump) > 10_000, "the dump holds the database"
    for text in [canary, *sent_plaintexts]:
        for spelling in spellings(text):
            assert spelling not in dump, f"plaintext found in the database: {text!r}"
    for secret in (demo.therapist.password, demo.client.password):
        assert secret.encode() not in dump

    therapist.assert_clean()
    client.assert_clean()
