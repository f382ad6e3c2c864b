"""Epoch rotation (crypto/SPEC.md): when the current epoch holds 100 messages, or is 7
days old, the browser begins a new epoch before sending its next message. Both rest on
what the members signed, not on what the server reports: the epoch's age on the time its
version-2 envelope signs (the server saying the epoch is a week old changes nothing), and
the count on the epoch's messages the browser holds, reading older pages until it holds
the epoch's start, so a browser that held only the newest page still rotates in time. The
messaging agreement accepted here is recorded on the server and not asked again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confide_client import ConfideClient
from tests.browser.conftest import Demo
from tests.browser.pages import (
    Watched,
    accept_agreement,
    conversation_id,
    expect,
    message_items,
    send,
    sign_in,
)
from tests.browser.peers import as_user, run
from tests.browser.server import Server

PASSWORD = "rotation needs a long enough password"
SEEDED = 100


@dataclass(frozen=True)
class NewClient:
    email: str
    name: str
    conversation: uuid.UUID


def invite_and_fill(server: Server, demo: Demo) -> NewClient:
    """The therapist invites a client, who signs up, and then writes 100 messages to them
    (Python): the client accepts the messaging agreement in the browser, before any
    message of theirs."""
    suffix = uuid.uuid4().hex[:6]
    name, email = f"Rowan {suffix}", f"rowan-{suffix}@example.invalid"

    async def invite(therapist: ConfideClient) -> str:
        return (await therapist.create_invitation(name)).fragment

    token = as_user(server.url, demo.therapist.email, demo.therapist.password, invite)

    async def sign_up() -> uuid.UUID:
        client = ConfideClient(server.url, backfill=False)
        try:
            signed_up = await client.accept_invitation(token, email, name, PASSWORD)
            return signed_up.conversation
        finally:
            await client.close()

    conversation = run(sign_up)

    async def write(therapist: ConfideClient) -> None:
        for n in range(SEEDED):
            await therapist.send_text(conversation, f"seeded {n}")

    as_user(server.url, demo.therapist.email, demo.therapist.password, write)
    return NewClient(email, name, conversation)


def stored_epoch(server: Server, demo: Demo, conversation: uuid.UUID, text: str) -> int:
    """The epoch the therapist's Python client finds the message under (and opens it)."""

    async def find(therapist: ConfideClient) -> int:
        reply = await therapist.call(
            {"type": "history", "conversation": str(conversation), "limit": 5}
        )
        page = await therapist.history(conversation, limit=5)
        [opened] = [m for m in page.messages if m.text == text]
        [raw] = [m for m in reply["messages"] if m["seq"] == opened.seq]
        epoch: int = raw["epoch"]
        return epoch

    return as_user(server.url, demo.therapist.email, demo.therapist.password, find)


def test_an_epoch_is_rotated_after_100_messages_or_7_days(
    server: Server,
    demo: Demo,
    new_page: Callable[..., Watched],
    sent_plaintexts: list[str],
) -> None:
    rowan = invite_and_fill(server, demo)
    client = new_page()
    c = client.page
    c.goto(server.url + "/")
    c.get_by_label("Email").fill(rowan.email)
    c.get_by_label("Password").fill(PASSWORD)
    c.get_by_role("button", name="Sign in").click()
    accept_agreement(c)
    assert c.request.get(server.url + "/api/me").json()["user"]["agreement"]["version"]
    assert conversation_id(c) == str(rowan.conversation)
    expect(message_items(c, f"seeded {SEEDED - 1}")).to_have_count(1)

    # 100 messages in epoch 0: the next message begins epoch 1 first.
    first = f"After a hundred {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(first)
    send(c, first)
    expect(c.locator(".message.mine").filter(has_text=first)).to_have_attribute(
        "data-state", "sent"
    )
    rekeys = [f for _, f in client.frames_of("sent", "rekey")]
    sends = [f for _, f in client.frames_of("sent", "send")]
    assert [f["epoch"] for f in rekeys] == [1]
    assert [f["epoch"] for f in sends] == [1]
    assert client.frames_of("sent", "rekey")[0][0] < client.frames_of("sent", "send")[0][0]
    assert stored_epoch(server, demo, rowan.conversation, first) == 1

    # One message later nothing rotates: epoch 1 is young and nearly empty.
    second = f"Still epoch one {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(second)
    send(c, second)
    expect(c.locator(".message.mine").filter(has_text=second)).to_have_attribute(
        "data-state", "sent"
    )
    assert len(client.frames_of("sent", "rekey")) == 1

    # The server saying epoch 1 began a week ago changes nothing: its envelope signs when.
    started = datetime.now(UTC) - timedelta(days=7, minutes=1)
    server.execute(
        "UPDATE messaging_conversation SET epoch_started_at = ? WHERE id = ?",
        started,
        rowan.conversation,
    )
    c.reload()
    sign_in(c, server.url, rowan.email, PASSWORD)
    expect(c.locator("#agreement-title")).to_have_count(0)
    still = f"The server's week is not a week {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(still)
    send(c, still)
    expect(c.locator(".message.mine").filter(has_text=still)).to_have_attribute(
        "data-state", "sent"
    )
    assert [f["epoch"] for _, f in client.frames_of("sent", "rekey")] == [1]

    # Seven days later by this browser's clock, the next message begins epoch 2.
    c.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=7, minutes=1))
    third = f"A week later {uuid.uuid4().hex[:8]}"
    sent_plaintexts.append(third)
    send(c, third)
    expect(message_items(c, third)).to_have_count(1)
    expect(c.locator(".message.mine").filter(has_text=third)).to_have_attribute(
        "data-state", "sent"
    )
    assert [f["epoch"] for _, f in client.frames_of("sent", "rekey")] == [1, 2]
    assert stored_epoch(server, demo, rowan.conversation, third) == 2
    client.assert_clean()
