"""A therapist's own inbox tasks from the Python client, against a real server: a pending
invitation gets a new link (the first stops working), a client gets the therapist's own
label, and a conversation is archived and brought back; a client cannot do any of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from confide_client import (
    ConfideClient,
    ForbiddenError,
    InvalidRequestError,
    InvitationInvalidError,
)
from harness.servers import LiveServer
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]

pytestmark = pytest.mark.timeout(120)


async def test_a_therapist_renews_labels_and_archives(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    first = await therapist.create_invitation("Sam")

    renewed = await therapist.renew_invitation(first.id, extend=True)

    assert renewed.id == first.id and renewed.conversation == first.conversation
    assert renewed.token != first.token
    assert renewed.expires_at >= first.expires_at
    stranger = await open_client(server.url, backfill=False)
    with pytest.raises(InvitationInvalidError):
        await stranger.lookup_invitation(first.fragment)
    assert (await stranger.lookup_invitation(renewed.fragment)).conversation == first.conversation
    await therapist.revoke_invitation(first.id)
    with pytest.raises(InvitationInvalidError):
        await therapist.renew_invitation(first.id)

    conversation = (await therapist.conversations())[0].id
    labelled = await therapist.label_conversation(conversation, "  Casey (Tuesdays)  ")
    assert labelled.label == "Casey (Tuesdays)"
    archived = await therapist.archive_conversation(conversation)
    assert archived.archived_at is not None and archived.label == "Casey (Tuesdays)"
    back = await therapist.archive_conversation(conversation, archived=False)
    assert back.archived_at is None
    assert (await therapist.label_conversation(conversation, "")).label == ""
    with pytest.raises(InvalidRequestError):
        await therapist.label_conversation(conversation, "x" * 151)

    client = await open_client(server.url, personas.client, backfill=False)
    [own] = await client.conversations()
    with pytest.raises(ForbiddenError):
        await client.archive_conversation(own.id)
