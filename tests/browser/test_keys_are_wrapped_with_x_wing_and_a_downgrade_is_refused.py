"""In the browser, epoch keys are wrapped with X-Wing to identities that hold an X-Wing
key (crypto/SPEC.md, "Version 3: wrapped with X-Wing"). An account from before publishes
the X-Wing key of its same keys when it signs in, with no warning to anyone (the
fingerprint is the same), and its next message starts an epoch wrapped with X-Wing; a key
wrapped with X25519 alone after the identity held an X-Wing key, because the server
served the wrapper the older identity, is refused, said calmly, and the next message
starts new keys. The server's database plays the compromised server; the therapist's
side is the Python client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from confide_client import ConfideClient
from confide_client import client as client_module
from crypto import IdentityKeyPair, PublicIdentity, parse_message
from tests.browser.conftest import Demo
from tests.browser.pages import (
    Watched,
    check_accessibility,
    expect,
    message_items,
    screenshot,
    send,
    sign_in,
)
from tests.browser.peers import run
from tests.browser.server import Server
from tests.personas import LivePersona, invite_client

THERAPIST = "Dr. Dana Demo"
T = TypeVar("T")


def _identity(server: Server, email: str) -> bytes:
    return bytes(
        server.stack.query_one("SELECT public_identity FROM accounts_user WHERE email = ?", email)
    )


def _serve(server: Server, email: str, identity: bytes) -> None:
    server.execute("UPDATE accounts_user SET public_identity = ? WHERE email = ?", identity, email)


def _envelope_version(server: Server, conversation: uuid.UUID, epoch: int, email: str) -> int:
    envelope = server.stack.query_one(
        "SELECT e.envelope FROM messaging_keyenvelope e JOIN accounts_user u "
        "ON u.id = e.recipient_id WHERE e.conversation_id = ? AND e.epoch = ? AND u.email = ?",
        conversation,
        epoch,
        email,
    )
    return bytes(envelope)[0]


def _epoch_of_newest(server: Server, conversation: uuid.UUID) -> int:
    wire = server.stack.query_one(
        "SELECT ciphertext FROM messaging_message WHERE conversation_id = ? "
        "ORDER BY seq DESC LIMIT 1",
        conversation,
    )
    return parse_message(bytes(wire)).epoch


def _new_client(server: Server, demo: Demo) -> tuple[LivePersona, uuid.UUID, bytes]:
    """A client of the demo therapist, made by the Python client (so the test knows the
    version-1 form of their keys, as it was published before X-Wing), their conversation
    and that form."""

    async def made() -> tuple[LivePersona, uuid.UUID, bytes]:
        persona, conversation = await invite_client(server.url, demo.therapist)
        async with ConfideClient(server.url, backfill=False) as client:
            await persona.sign_in(client)
            old = IdentityKeyPair(client.identity._secret_material()).public.to_bytes()
        return persona, conversation, old

    return run(made)


def _as_therapist(server: Server, demo: Demo, work: Callable[[ConfideClient], Awaitable[T]]) -> T:
    """``work`` done by the demo therapist's Python client, signed in and connected."""

    async def signed_in() -> T:
        async with ConfideClient(server.url, backfill=False) as therapist:
            await demo.therapist.sign_in(therapist)
            await therapist.connect()
            return await work(therapist)

    return run(signed_in)


def _therapist_rekeys(
    server: Server, demo: Demo, conversation: uuid.UUID, ahead_ms: int = 0
) -> int:
    """The therapist begins the next epoch, by a clock ``ahead_ms`` ahead (as if that much
    later: past the 5 minutes' grace after an identity holds its X-Wing key)."""
    if not ahead_ms:
        return _as_therapist(server, demo, lambda therapist: therapist.rekey(conversation))
    real = client_module._now_ms
    client_module._now_ms = lambda: real() + ahead_ms
    try:
        return _as_therapist(server, demo, lambda therapist: therapist.rekey(conversation))
    finally:
        client_module._now_ms = real


async def _read_all(therapist: ConfideClient, conversation: uuid.UUID) -> list[str]:
    page = await therapist.history(conversation)
    return [message.text for message in page.messages]


def _conversation_open(server: Server, persona: LivePersona, page: Watched) -> None:
    sign_in(page.page, server.url, persona.email, persona.password)
    expect(page.page.get_by_role("heading", name=THERAPIST)).to_be_visible()


def test_an_account_from_before_publishes_its_x_wing_key_when_it_signs_in(
    server: Server, demo: Demo, new_page: Callable[..., Watched], sent_plaintexts: list[str]
) -> None:
    persona, conversation, old = _new_client(server, demo)
    _serve(server, persona.email, old)
    assert _therapist_rekeys(server, demo, conversation) == 1
    assert _envelope_version(server, conversation, 1, persona.email) == 2

    client = new_page(1280, 800)
    _conversation_open(server, persona, client)
    published = PublicIdentity.from_bytes(_identity(server, persona.email))
    assert published.version == 2
    assert published.fingerprint() == PublicIdentity.from_bytes(old).fingerprint()
    c = client.page
    expect(c.locator(".banner")).to_be_hidden()
    expect(c.locator(".downgrade-note")).to_be_hidden()

    text = "Written under keys a quantum computer cannot open."
    sent_plaintexts.append(text)
    send(c, text)
    expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$")
    )
    assert _epoch_of_newest(server, conversation) == 2, "an X-Wing epoch began first"
    assert _envelope_version(server, conversation, 2, persona.email) == 3
    assert _envelope_version(server, conversation, 2, demo.therapist.email) == 3
    # The Python client opens the key the browser wrapped to it with X-Wing.
    assert _as_therapist(server, demo, lambda t: _read_all(t, conversation)) == [text]
    client.assert_clean()


def test_a_key_wrapped_without_x_wing_is_refused_and_said(
    server: Server, demo: Demo, new_page: Callable[..., Watched], sent_plaintexts: list[str]
) -> None:
    persona, conversation, old = _new_client(server, demo)
    client = new_page(390, 844)
    _conversation_open(server, persona, client)
    c = client.page
    expect(c.locator(".downgrade-note")).to_be_hidden()

    real = _identity(server, persona.email)
    _serve(server, persona.email, old)
    try:
        assert _therapist_rekeys(server, demo, conversation, ahead_ms=10 * 60 * 1000) == 1
    finally:
        _serve(server, persona.email, real)

    note = c.locator(".downgrade-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("so it was refused")
    expect(note).to_contain_text("Your next message starts new keys")
    screenshot(c, "key-downgrade-refused")
    check_accessibility(c, "a refused key")

    text = "Not under a key the server could harvest."
    sent_plaintexts.append(text)
    send(c, text)
    expect(c.locator(".message.mine").filter(has_text=text)).to_have_attribute(
        "data-state", re.compile("^(sent|read)$")
    )
    assert _epoch_of_newest(server, conversation) == 2
    assert _envelope_version(server, conversation, 2, persona.email) == 3

    # Now the server serves the real identity: the therapist's Python client wraps the next
    # epoch's key to the browser with X-Wing, and the browser opens it.
    reply = "Read under a key the Python client wrapped with X-Wing."
    sent_plaintexts.append(reply)

    async def rekey_and_reply(therapist: ConfideClient) -> int:
        epoch = await therapist.rekey(conversation)
        await therapist.send_text(conversation, reply)
        return epoch

    assert _as_therapist(server, demo, rekey_and_reply) == 3
    assert _envelope_version(server, conversation, 3, persona.email) == 3
    expect(message_items(c, reply)).to_have_count(1, timeout=15_000)
    assert _epoch_of_newest(server, conversation) == 3
    client.assert_clean()
