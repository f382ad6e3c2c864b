"""An invitation link carries the fingerprint of its therapist's identity, written by the
therapist's own client; the invited client's Python library refuses a therapist key that
does not match it, and a link without it, before anything is made (crypto/SPEC.md,
"Invitation links"). Against a real server, the therapist's true key and another
therapist's fingerprint in the link stand for the two sides of a substitution."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from confide_client import (
    ConfideClient,
    InvalidRequestError,
    InvitationKeyMismatchError,
    KeysError,
)
from crypto import b64encode, parse_invitation_fragment
from harness.servers import LiveServer, new_email, new_password
from tests.personas import LivePersonas

OpenClient = Callable[..., Awaitable[ConfideClient]]


async def test_the_link_names_the_therapists_own_key(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    invitation = await therapist.create_invitation("Jordan")
    token, fingerprint = parse_invitation_fragment(invitation.fragment)
    assert token == invitation.token
    assert fingerprint == therapist.identity.public.fingerprint()
    assert invitation.path == f"/invite#{invitation.token}.{b64encode(fingerprint)}"
    assert invitation.token not in repr(invitation)

    renewed = await therapist.renew_invitation(invitation.id)
    assert parse_invitation_fragment(renewed.fragment) == (renewed.token, fingerprint)

    client = await open_client(server.url, backfill=False)
    details = await client.lookup_invitation(renewed.fragment)
    assert details.therapist.identity == therapist.identity.public
    await therapist.revoke_invitation(invitation.id)


async def test_another_key_in_the_therapists_place_makes_nothing(
    server: LiveServer, personas: LivePersonas, open_client: OpenClient
) -> None:
    therapist = await open_client(server.url, personas.therapist, backfill=False)
    other = await open_client(server.url, personas.other_therapist, backfill=False)
    invitation = await therapist.create_invitation("Jordan")
    # The link names another therapist's key than the one the server serves for it.
    forged = f"{invitation.token}.{b64encode(other.identity.public.fingerprint())}"

    client = await open_client(server.url, backfill=False)
    with pytest.raises(InvitationKeyMismatchError) as refused:
        await client.lookup_invitation(forged)
    assert isinstance(refused.value, KeysError)
    assert refused.value.code == "invitation_key_mismatch"
    assert "does not match" in refused.value.message
    with pytest.raises(InvitationKeyMismatchError):
        await client.accept_invitation(forged, new_email("client"), "Jordan", new_password())
    assert client.account is None

    # Nothing was made: the invitation is still pending, and its true link still works.
    [listed] = [i for i in await therapist.invitations() if i.id == invitation.id]
    assert listed.state == "pending"
    assert (await client.lookup_invitation(invitation.fragment)).conversation == (
        invitation.conversation
    )
    await therapist.revoke_invitation(invitation.id)


@pytest.mark.parametrize(
    "fragment",
    [
        "a-token-without-its-fingerprint-0123456789",
        "a-token-without-its-fingerprint-0123456789.",
        "a-token-without-its-fingerprint-0123456789.c2hvcnQ",
        "",
    ],
)
async def test_a_link_without_a_whole_fingerprint_is_refused_before_any_request(
    fragment: str, open_client: OpenClient
) -> None:
    # Nothing listens here: a request would fail with another error.
    client = await open_client("http://127.0.0.1:9", backfill=False)
    with pytest.raises(InvalidRequestError) as refused:
        await client.lookup_invitation(fragment)
    assert refused.value.code == "invitation_link_incomplete"
    assert "ask your therapist for a new one" in refused.value.message
    with pytest.raises(InvalidRequestError):
        await client.accept_invitation(fragment, "j@example.invalid", "J", "a long password")
