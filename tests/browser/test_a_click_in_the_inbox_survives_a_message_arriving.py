"""The therapist's inbox is drawn again whenever anything of a conversation changes (a
message, a read receipt, a listing). Its rows are kept, not made again: one whose
conversation shows the same is not touched, and one that shows something new (a count of
unread messages) changes what its link holds, not the link. So a click begun on a client's
row (the button pressed) when their message arrives, and released after, still opens their
conversation. A replaced row lost such a click."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.browser.conftest import CLIENT_NAME, Demo
from tests.browser.pages import (
    Watched,
    expect,
    new_client,
    send,
    sign_in,
)
from tests.browser.server import Server


def test_a_clients_row_pressed_as_their_message_arrives_still_opens(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    therapist = new_page(1280, 800)
    t = therapist.page
    sign_in(t, server.url, demo.therapist.email, demo.therapist.password)
    suffix = uuid.uuid4().hex[:6]
    name = f"Ari {suffix}"
    ari = new_client(
        t, new_page, name, "a lantern on the far shore", f"ari-{suffix}@example.invalid"
    )
    a = ari.page
    ari_row = t.locator(".inbox-item", has_text=name)
    # Ari's first message puts their row at the top, where the next one leaves it: the
    # rows below stay where they are under the pointer.
    first = f"Hello, this is Ari {suffix}"
    sent_plaintexts.append(first)
    send(a, first)
    expect(ari_row.locator(".badge")).to_have_text("1", timeout=15_000)
    casey_row = t.locator(".inbox-item", has_text=CLIENT_NAME)
    expect(casey_row).to_be_visible()
    for row in (ari_row, casey_row):
        row.evaluate("row => { row.markedBeforeTheMessage = true; }")

    # The button goes down on Ari's row; Ari's second message arrives and the list is drawn
    # again (Ari's row now counts two); the button comes up.
    ari_row.scroll_into_view_if_needed()
    box = ari_row.bounding_box()
    assert box is not None
    t.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    t.mouse.down()
    text = f"Are you there this week? {suffix}"
    sent_plaintexts.append(text)
    send(a, text)
    expect(ari_row.locator(".badge")).to_have_text("2", timeout=15_000)
    # Ari's row shows the new count in the same element; Casey's did not change at all.
    for row in (ari_row, casey_row):
        assert row.evaluate("row => row.markedBeforeTheMessage === true"), "the row was replaced"
    t.mouse.up()

    expect(t.get_by_role("heading", name=name)).to_be_visible()
