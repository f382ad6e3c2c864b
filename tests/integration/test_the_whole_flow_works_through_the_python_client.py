"""The whole flow, through the Python client against a real server: a therapist invites, the
client accepts, both talk, read receipts and typing arrive, history pages back, and a second
device signed in with the password restores the keys and decrypts the whole history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from confide_client import ConfideClient, ReadReceipt, Typing
from crypto import RecoveryKey
from harness.servers import LiveServer, new_email, new_password
from tests.integration.helpers import event_of, messages_from, messages_until, nothing_more
from tests.personas import LivePersona, LivePersonas, accept_agreement_live

OpenClient = Callable[..., Awaitable[ConfideClient]]

FROM_CLIENT = ["Hello, Dr. Demo.", "Is Thursday still on?", "Ünïcödé and emoji 🌱 survive"]
FROM_THERAPIST = ["Hello! Yes, Thursday at 10.", "See you then."]


async def test_a_therapist_and_their_invited_client_talk_end_to_end(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    therapist = await open_client(server.url, personas.therapist)
    invitation = await therapist.create_invitation("Robin")

    client = await open_client(server.url)
    details = await client.lookup_invitation(invitation.fragment)
    assert details.conversation == invitation.conversation
    assert details.therapist.identity == therapist.identity.public
    email, password = new_email("client"), new_password()
    sign_up = await client.accept_invitation(invitation.fragment, email, "Robin", password)
    conversation = sign_up.conversation
    assert conversation == invitation.conversation
    RecoveryKey.from_display(sign_up.recovery_key)  # a well-formed key, checksum included
    # The new client accepts the practice's messaging agreement before the first message.
    persona = LivePersona(email, password, sign_up.account.id, "client")
    await accept_agreement_live(server.url, persona)

    await therapist.connect()
    await client.connect()
    assert client.account is not None and therapist.account is not None
    client_id, therapist_id = client.account.id, therapist.account.id

    # Client to therapist, then therapist to client: decrypted, in order, numbered 1..5.
    sent = [await client.send_text(conversation, text) for text in FROM_CLIENT]
    assert sent == [1, 2, 3]
    received = await messages_from(therapist, client_id, 3)
    assert [(m.seq, m.text) for m in received] == list(zip(sent, FROM_CLIENT, strict=True))
    replies = [await therapist.send_text(conversation, text) for text in FROM_THERAPIST]
    assert replies == [4, 5]
    answered = await messages_from(client, therapist_id, 2)
    assert [(m.seq, m.text) for m in answered] == list(zip(replies, FROM_THERAPIST, strict=True))

    # Read receipts and typing reach the other member.
    assert await client.mark_read(conversation, 5) == 5
    receipt = await event_of(therapist, ReadReceipt)
    assert (receipt.conversation, receipt.user_id, receipt.seq) == (conversation, client_id, 5)
    await therapist.typing(conversation)
    typing = await event_of(client, Typing)
    assert (typing.conversation, typing.user_id) == (conversation, therapist_id)

    # History pages back, oldest first within each page.
    everything = FROM_CLIENT + FROM_THERAPIST
    newest = await client.history(conversation, limit=2)
    assert [m.seq for m in newest.messages] == [4, 5] and newest.has_more
    middle = await client.history(conversation, before=4, limit=2)
    assert [m.seq for m in middle.messages] == [2, 3] and middle.has_more
    oldest = await client.history(conversation, before=2, limit=2)
    assert [m.seq for m in oldest.messages] == [1] and not oldest.has_more
    pages = oldest.messages + middle.messages + newest.messages
    assert [m.text for m in pages] == everything

    # A second device with only the password gets the keys back and the whole history.
    second = await open_client(server.url)
    await second.sign_in(email, password)
    assert second.identity == client.identity
    await second.connect()
    restored = await messages_until(second, 5)
    assert [(m.seq, m.text) for m in restored] == list(enumerate(everything, start=1))
    assert second.conversation_key(conversation, 0) == client.conversation_key(conversation, 0)
    assert await nothing_more(second)
