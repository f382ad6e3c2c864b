"""A therapist's new invitation carries its id; ``invitations()`` lists them newest first
with their state and never a token, and ``revoke_invitation(id)`` withdraws one."""

from __future__ import annotations

import pytest

from confide_client.errors import ForbiddenError, InvalidRequestError, NotFoundError
from tests.client.conftest import Practice, SignIn


async def test_an_invitation_is_listed_and_revoked_by_its_id(
    practice: Practice, sign_in: SignIn
) -> None:
    theo = await sign_in(practice.therapist, connect=False)
    first = await theo.create_invitation("Rosa")
    second = await theo.create_invitation("Sam")
    assert first.id != second.id

    listed = await theo.invitations()
    assert [(i.id, i.client_name, i.state) for i in listed] == [
        (second.id, "Sam", "pending"),
        (first.id, "Rosa", "pending"),
    ]
    assert listed[1].conversation == first.conversation
    assert first.token not in repr(listed)

    revoked = await theo.revoke_invitation(first.id)
    assert (revoked.id, revoked.state) == (first.id, "revoked")
    assert [i.state for i in await theo.invitations()] == ["pending", "revoked"]


async def test_a_client_has_no_invitations_to_list(practice: Practice, sign_in: SignIn) -> None:
    clara = await sign_in(practice.client, connect=False)
    with pytest.raises(ForbiddenError):
        await clara.invitations()


async def test_an_unknown_or_impossible_id_is_refused(practice: Practice, sign_in: SignIn) -> None:
    theo = await sign_in(practice.therapist, connect=False)
    with pytest.raises(NotFoundError):
        await theo.revoke_invitation(999)
    for impossible in (0, -1, True):
        with pytest.raises(InvalidRequestError):
            await theo.revoke_invitation(impossible)
