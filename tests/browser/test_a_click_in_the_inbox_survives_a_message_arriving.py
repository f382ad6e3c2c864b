"""The therapist's inbox is drawn again whenever anything of a conversation changes (a
message, a read receipt, a listing). A row whose conversation shows the same is kept, not
made again: a click begun on it (the button pressed) when another client's message arrives
and released after still opens its conversation. A replaced row lost such a click."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.browser.conftest import CLIENT_NAME, Demo
from tests.browser.pages import (
    Watched,
    accept_agreement,
    expect,
    invite,
    join_through_link,
    send,
    sign_in,
)
from tests.browser.server import Server


def test_a_row_pressed_while_another_clients_message_arrives_still_opens(
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
    link = invite(t, name)
    ari = new_page()
    a = ari.page
    join_through_link(
        a,
        link,
        "a lantern on the far shore",
        email=f"ari-{suffix}@example.invalid",
    )
    accept_agreement(a)
    ari_row = t.locator(".inbox-item", has_text=name)
    # Ari's first message puts their row at the top, where the next one leaves it: the
    # rows below stay where they are under the pointer.
    first = f"Hello, this is Ari {suffix}"
    sent_plaintexts.append(first)
    send(a, first)
    expect(ari_row.locator(".badge")).to_have_text("1", timeout=15_000)
    casey_row = t.locator(".inbox-item", has_text=CLIENT_NAME)
    expect(casey_row).to_be_visible()
    casey_row.evaluate("row => { row.dataset.marked = 'before the message'; }")

    # The button goes down on Casey's row; Ari's second message arrives and the list is
    # drawn again (Ari's row now counts two); the button comes up.
    casey_row.scroll_into_view_if_needed()
    box = casey_row.bounding_box()
    assert box is not None
    t.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    t.mouse.down()
    text = f"Are you there this week? {suffix}"
    sent_plaintexts.append(text)
    send(a, text)
    expect(ari_row.locator(".badge")).to_have_text("2", timeout=15_000)
    assert casey_row.get_attribute("data-marked") == "before the message", "the row was replaced"
    t.mouse.up()

    expect(t.get_by_role("heading", name=CLIENT_NAME)).to_be_visible()
