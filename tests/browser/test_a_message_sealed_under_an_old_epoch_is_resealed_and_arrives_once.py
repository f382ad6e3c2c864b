"""The peer begins a new epoch while this browser is offline with a message sealed under
the old one: the server answers ``stale_epoch``, the browser fetches the new envelope,
seals the same text again under the same client message id, and it arrives once."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from confide_client import ConfideClient
from tests.browser.conftest import Conversing, Demo
from tests.browser.pages import (
    conversation_id,
    expect,
    message_items,
    send,
)
from tests.browser.peers import as_user
from tests.browser.server import Server


def test_a_message_sealed_under_an_old_epoch_is_resealed_and_arrives_once(
    server: Server,
    demo: Demo,
    conversing: Conversing,
    sent_plaintexts: list[str],
) -> None:
    therapist, client = conversing.therapist, conversing.client
    t, c = therapist.page, client.page
    conversation = uuid.UUID(conversation_id(c))

    text = f"Sealed before the new epoch {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)
    c.context.set_offline(True)
    expect(c.locator("#connection")).to_contain_text("offline")
    send(c, text)
    expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
        "data-state", "queued"
    )
    [old_epoch] = {f["epoch"] for f in _queued(c)}

    async def rekey(peer: ConfideClient) -> int:
        return await peer.rekey(conversation)

    new_epoch = as_user(server.url, demo.therapist.email, demo.therapist.password, rekey)
    assert new_epoch == old_epoch + 1

    c.context.set_offline(False)
    expect(message_items(t, text)).to_have_count(1, timeout=10_000)
    expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$")
    )
    sends = [f for _, f in client.frames_of("sent", "send")]
    stale = [f for _, f in client.frames_of("received", "error") if f["code"] == "stale_epoch"]
    assert [f["epoch"] for f in sends] == [old_epoch, new_epoch]
    assert len({f["client_message_id"] for f in sends}) == 1, "the same message, sealed again"
    assert [f["ref"] for f in stale] == [sends[0]["ref"]]
    assert stale[0]["current_epoch"] == new_epoch

    async def stored(peer: ConfideClient) -> list[dict[str, Any]]:
        reply = await peer.call({"type": "history", "conversation": str(conversation)})
        messages: list[dict[str, Any]] = reply["messages"]
        return [m for m in messages if m["client_message_id"] == sends[0]["client_message_id"]]

    [row] = as_user(server.url, demo.therapist.email, demo.therapist.password, stored)
    assert row["epoch"] == new_epoch
    t.wait_for_timeout(1_000)
    expect(message_items(t, text)).to_have_count(1)
    expect(message_items(c, text)).to_have_count(1)
    therapist.assert_clean()
    client.assert_clean()


def _queued(page: Any) -> list[dict[str, Any]]:
    """The outbox entries the page keeps in sessionStorage (ciphertext and ids only)."""
    stored = page.evaluate(
        "Object.entries(sessionStorage).filter(([k]) => k.startsWith('confide.outbox.'))"
        ".map(([, v]) => v)"
    )
    return [entry for text in stored for entry in json.loads(text)]
