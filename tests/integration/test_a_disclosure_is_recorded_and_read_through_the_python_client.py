"""The accounting of disclosures through the Python client, against a real server: the
therapist records a disclosure, the client is told and reads it (and the chat's
``/disclosures`` shows it); the client cannot record one; a record changed in the database
is listed as such, not dropped; and a discharged conversation takes no more."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable

import pytest

from confide_client import (
    ConfideClient,
    DisclosureRecorded,
    ForbiddenError,
    InvalidRequestError,
    ServerRefusedError,
)
from confide_client.cli.chat import disclosure_lines
from harness.servers import LiveServer, Stack
from tests.integration.helpers import event_of
from tests.personas import LivePersona, LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]
NewPair = Callable[..., Awaitable[tuple[LivePersona, uuid.UUID]]]

pytestmark = pytest.mark.timeout(120)

DAY = datetime.date(2026, 11, 20)
WHAT = "Dates of attendance, and that treatment continues"


def _shell(stack: Stack, code: str) -> None:
    stack.manage("shell", "-c", code)


async def test_the_therapist_records_and_the_client_reads_it(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    client_persona, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    client = await open_client(server.url, client_persona, backfill=False)
    await client.connect()

    recorded = await therapist.record_disclosure(
        conversation,
        disclosed_on=DAY,
        legal_basis="court_order",
        recipient="Superior Court of California, County of Alameda",
        information=WHAT,
        purpose="The order of 18 November, case 26-4411",
    )

    assert recorded.readable and recorded.description is not None
    assert recorded.description.information == WHAT
    assert WHAT not in repr(recorded) and "Alameda" not in repr(recorded)
    told = await event_of(client, DisclosureRecorded)
    assert (told.conversation, told.disclosure) == (conversation, recorded.id)
    for reader in (client, therapist):
        [listed] = await reader.disclosures(conversation)
        assert listed.id == recorded.id and listed.readable
        assert listed.description == recorded.description
        assert (listed.disclosed_on, listed.legal_basis) == (DAY, "court_order")
    lines = disclosure_lines(listed, {personas.therapist.user_id: "Theo"})
    assert lines[0].startswith("2026-11-20  Court order or subpoena  (recorded by Theo")
    assert f"  What was disclosed: {WHAT}" in lines

    with pytest.raises(ForbiddenError):
        await client.record_disclosure(
            conversation,
            disclosed_on=DAY,
            legal_basis="client_authorised",
            recipient="Anyone",
            information="Anything",
            purpose="None",
        )
    with pytest.raises(InvalidRequestError):
        await therapist.record_disclosure(
            conversation,
            disclosed_on=DAY,
            legal_basis="court_order",
            recipient="",
            information=WHAT,
            purpose="x",
        )

    # The server serves another date than the sealed one: listed, and said not to match.
    _shell(
        stack,
        "from messaging.models import Disclosure; "
        f"Disclosure.objects.filter(pk='{recorded.id}').update(disclosed_on='2026-11-21')",
    )
    [redated] = await client.disclosures(conversation)
    assert (redated.id, redated.readable, redated.problem) == (recorded.id, False, "BindingError")
    assert redated.disclosed_on == datetime.date(2026, 11, 21)

    # A byte of the record changed where it is stored: listed, and said to be unreadable.
    _shell(
        stack,
        "from messaging.models import Disclosure; "
        f"d = Disclosure.objects.get(pk='{recorded.id}'); s = bytearray(d.sealed); "
        "s[150] ^= 1; d.sealed = bytes(s); d.disclosed_on = '2026-11-20'; d.save()",
    )
    [changed] = await client.disclosures(conversation)
    assert changed.id == recorded.id
    assert (changed.readable, changed.problem) == (False, "SignatureError")
    assert "could not be verified or opened" in disclosure_lines(changed, {})[1]


async def test_a_discharged_conversation_takes_no_disclosure(
    server: LiveServer,
    stack: Stack,
    personas: LivePersonas,
    open_client: OpenClient,
    new_pair: NewPair,
) -> None:
    _, conversation = await new_pair()
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    await therapist.conversations()
    _shell(
        stack,
        "from messaging.models import Conversation; "
        f"Conversation.objects.filter(pk='{conversation}').update(status='discharged')",
    )

    with pytest.raises(ServerRefusedError) as refused:
        await therapist.record_disclosure(
            conversation,
            disclosed_on=DAY,
            legal_basis="duty_to_protect",
            recipient="Officer Ruiz",
            information="The threat",
            purpose="To warn",
        )

    assert refused.value.code == "conversation_closed"
    assert "only while the conversation is active" in refused.value.message
    assert await therapist.disclosures(conversation) == []
