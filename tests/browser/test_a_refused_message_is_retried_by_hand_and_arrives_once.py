"""A message the server refuses for good is shown as not sent, with a Retry button; once the
cause is gone, Retry delivers it, exactly once (same client message id, same bytes)."""

from __future__ import annotations

import re
import uuid

from tests.browser.conftest import Conversing
from tests.browser.pages import (
    check_accessibility,
    conversation_id,
    expect,
    message_items,
    screenshot,
    send,
)
from tests.browser.server import Server


def set_status(server: Server, conversation: str, status: str) -> None:
    """What a practice admin's discharge (and its undoing) does to the conversation."""
    server.execute(
        "UPDATE messaging_conversation SET status = ? WHERE id = ?",
        status,
        uuid.UUID(conversation),
    )


def test_a_refused_message_is_retried_by_hand_and_arrives_once(
    server: Server,
    conversing: Conversing,
    sent_plaintexts: list[str],
) -> None:
    therapist, client = conversing.therapist, conversing.client
    t, c = therapist.page, client.page
    conversation = conversation_id(c)

    text = f"Sent while the conversation was closed {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    # The client's socket is ready and its conversation's newest page is in: nothing it does
    # at a connect (a listing) can fall while the conversation is discharged. A client that
    # learns of a discharge never takes the conversation for active again, and the undoing
    # below is this test's own device (a real discharge is for good).
    for _ in range(200):
        if client.frames_of("received", "ready") and client.frames_of("received", "history"):
            break
        c.wait_for_timeout(50)
    else:
        raise AssertionError("the client's socket never became ready with its newest page")
    set_status(server, conversation, "discharged")
    try:
        send(c, text)
        row = c.locator(".message.mine").filter(has_text=text)
        expect(row).to_have_attribute("data-state", "failed")
    finally:
        set_status(server, conversation, "active")

    # Shown as not sent, saying why, with a Retry button.
    expect(row.locator(".state")).to_have_text("Not sent")
    expect(row).to_contain_text("read-only")
    retry = row.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    screenshot(c, "message-failed-with-retry")
    check_accessibility(c, "a failed message")
    [(_, refusal)] = [
        (at, f)
        for at, f in client.frames_of("received", "error")
        if f["code"] == "conversation_closed"
    ]
    # Not resent by itself, though the server would now take it: only the person decides.
    c.wait_for_timeout(1_000)
    assert len(client.frames_of("sent", "send")) == 1

    retry.click()
    expect(row).to_have_attribute("data-state", re.compile("^(sent|read)$"))
    expect(message_items(t, text)).to_have_count(1, timeout=5_000)
    sends = [f for _, f in client.frames_of("sent", "send")]
    assert len(sends) == 2
    assert sends[0]["client_message_id"] == sends[1]["client_message_id"]
    assert sends[0]["ciphertext"] == sends[1]["ciphertext"]
    acks = [f for _, f in client.frames_of("received", "ack")]
    assert [a["duplicate"] for a in acks] == [False]
    assert refusal["ref"] == sends[0]["ref"]

    # Once, on both sides.
    t.wait_for_timeout(1_000)
    expect(message_items(t, text)).to_have_count(1)
    expect(message_items(c, text)).to_have_count(1)
    therapist.assert_clean()
    client.assert_clean()
