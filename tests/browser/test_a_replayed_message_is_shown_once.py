"""A server that replays a genuine sealed message under a new sequence number (the seal
binds the client message id, not the number) gets it shown once: the browser holds each
opened message once per client message id."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from confide_client import ConfideClient
from tests.browser.conftest import Demo
from tests.browser.pages import Watched, conversation_id, expect, message_items, sign_in
from tests.browser.peers import as_user
from tests.browser.server import Server


def test_a_replayed_message_is_shown_once(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    client = new_page()
    c = client.page
    replayed: list[dict[str, Any]] = []

    def replaying_server(ws: Any) -> None:
        """Between the page and the real server: each pushed message from the therapist
        is passed on, then sent again under the next sequence number."""
        upstream = ws.connect_to_server()
        ws.on_message(upstream.send)

        def downstream(payload: str | bytes) -> None:
            ws.send(payload)
            frame = json.loads(payload)
            if frame.get("type") == "message" and "ref" not in frame and frame["sender"] != me:
                copy = {**frame, "seq": frame["seq"] + 1}
                replayed.append(copy)
                ws.send(json.dumps(copy))

        upstream.on_message(downstream)

    c.route_web_socket("**/ws", replaying_server)
    sign_in(c, server.url, demo.client.email, demo.client.password)
    me = c.request.get(server.url + "/api/me").json()["user"]["id"]
    conversation = uuid.UUID(conversation_id(c))
    expect(c.locator("#connection")).to_have_attribute("data-state", "open")

    text = f"Said once, replayed once {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(text)

    async def say(therapist: ConfideClient) -> int:
        return await therapist.send_text(conversation, text)

    seq = as_user(server.url, demo.therapist.email, demo.therapist.password, say)
    expect(message_items(c, text)).to_have_count(1)
    c.wait_for_timeout(1_000)  # the replay has arrived and been handled
    assert [frame["seq"] for frame in replayed] == [seq + 1]
    expect(message_items(c, text)).to_have_count(1)
    client.assert_clean()
