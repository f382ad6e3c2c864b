"""A server that adds a third member to a conversation gets the whole conversation refused.

Otherwise the extra member's envelopes and messages would be trusted: the server could
start an epoch whose key it holds, and read everything sent after.
"""

from __future__ import annotations

import uuid

import pytest

from confide_client.client import refuse_unless_two_people
from confide_client.errors import ConversationRefusedError
from confide_client.records import Member
from confide_client.wire import ConversationData
from crypto import IdentityKeyPair

ME = 1


def member(user_id: int, role: str) -> Member:
    return Member(user_id, f"user {user_id}", role, IdentityKeyPair.generate().public)


def conversation(*members: Member) -> ConversationData:
    return ConversationData(uuid.uuid4(), "active", 0, 0, 0, 0, members, {}, ())


def test_me_and_my_therapist_is_accepted() -> None:
    refuse_unless_two_people(conversation(member(ME, "client"), member(2, "therapist")), ME)


@pytest.mark.parametrize(
    "members",
    [
        (member(ME, "client"), member(2, "therapist"), member(99, "therapist")),
        (member(ME, "client"),),
        (member(2, "client"), member(3, "therapist")),
        (member(ME, "client"), member(2, "client")),
        (member(ME, "client"), member(2, "admin")),
        (member(ME, "client"), member(ME, "therapist")),
    ],
    ids=["a third member", "alone", "without me", "two clients", "an admin", "me twice"],
)
def test_any_other_member_list_is_refused(members: tuple[Member, ...]) -> None:
    with pytest.raises(ConversationRefusedError, match="one other person"):
        refuse_unless_two_people(conversation(*members), ME)
