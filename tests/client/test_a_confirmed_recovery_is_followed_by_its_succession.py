"""The Python client follows an identity succession (crypto/SPEC.md, "Identity succession"):
a client whose identity changed through an assisted recovery that their therapist
confirmed, with a succession the therapist signed, is reported as recovered
(``PeerRecovered``), not as an unexplained key change, and their messages written under the
earlier identity still open. A succession signed by anyone else, or naming other keys, is
ignored: the change is a ``PeerKeyChanged`` and the old messages do not verify."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

import crypto
from confide_client.client import ConfideClient, _open_from_any
from confide_client.identities import SeenIdentities
from confide_client.records import Account, PeerKeyChanged, PeerRecovered
from confide_client.wire import MessageData
from crypto import ConversationKey, IdentityKeyPair, PublicIdentity

SERVER = "http://127.0.0.1:8000"
BEFORE = "written before the recovery"
THERAPIST, CLIENT = 5, 7

A = TypeVar("A", bound=BaseModel)


class Listing:
    """Stands in for ``GET /api/conversations``: the therapist (this client) and their
    client, whose identity ``current`` may carry an ``identity_changed``."""

    def __init__(self, therapist: IdentityKeyPair, current: PublicIdentity) -> None:
        self.conversation = uuid.uuid4()
        self.therapist = therapist
        self.current = current
        self.successions: list[bytes] = []
        self.confirmed_by = THERAPIST

    def member(self, user_id: int, role: str, identity: PublicIdentity) -> dict[str, Any]:
        return {
            "id": user_id,
            "display_name": f"user {user_id}",
            "role": role,
            "public_identity": crypto.b64encode(identity.to_bytes()),
        }

    async def get(self, path: str, answer: type[A]) -> A:
        assert path == "/api/conversations"
        client = self.member(CLIENT, "client", self.current)
        if self.successions:
            client["identity_changed"] = {
                "reason": "recovery",
                "confirmed_by": self.confirmed_by,
                "confirmed_by_name": "user 5",
                "at": "2026-12-01T10:00:00+00:00",
                "successions": [crypto.b64encode(s) for s in self.successions],
            }
        listing = {
            "conversations": [
                {
                    "id": str(self.conversation),
                    "status": "active",
                    "current_epoch": 0,
                    "epoch_started_at": "2026-01-01T00:00:00+00:00",
                    "epoch_messages": 0,
                    "last_seq": 0,
                    "last_message_at": None,
                    "last_read_seq": 0,
                    "unread": 0,
                    "members": [self.member(THERAPIST, "therapist", self.therapist.public), client],
                    "read_seqs": {},
                    "envelopes": [],
                }
            ]
        }
        return answer.model_validate_json(json.dumps(listing))


def signed_in(listing: Listing, seen: SeenIdentities) -> ConfideClient:
    client = ConfideClient(SERVER, seen_identities=seen)
    account = Account(
        THERAPIST, "theo@practice.invalid", "Theo", "therapist", 1, "P", listing.therapist.public
    )
    client._become(account, listing.therapist)
    client._http.get = listing.get  # type: ignore[method-assign]
    return client


def events(client: ConfideClient) -> list[object]:
    out: list[object] = []
    while not client.events.empty():
        out.append(client.events.get_nowait())
    return out


Sign = Callable[[IdentityKeyPair, PublicIdentity, PublicIdentity], list[bytes]]


async def after_recovery(sign: Sign, confirmed_by: int = THERAPIST) -> tuple[list[object], str]:
    """The therapist's client saw the client's old identity; later the server lists a new
    one, with the successions ``sign`` makes from (the therapist, old, new). Returns the
    events of the new listing, and what became of a message the client wrote before."""
    theo, old, new = (IdentityKeyPair.generate() for _ in range(3))
    listing = Listing(theo, old.public)
    seen = SeenIdentities()
    await signed_in(listing, seen).conversations()
    listing.current = new.public
    listing.successions = sign(theo, old.public, new.public)
    listing.confirmed_by = confirmed_by
    later = signed_in(listing, seen)
    await later.conversations()
    member = later._conversations[listing.conversation].members[CLIENT]
    key, message_id = ConversationKey.generate(), uuid.uuid4()
    ciphertext = crypto.seal_text(BEFORE, key, listing.conversation, 0, old, message_id)
    data = MessageData(
        listing.conversation, 1, message_id, 0, CLIENT, ciphertext, datetime.now(UTC)
    )
    try:
        opened = _open_from_any(data, key, (member.identity, *member.earlier))
    except crypto.SignatureError:
        opened = "did not verify"
    return events(later), opened


def succession(
    signer: IdentityKeyPair, previous: PublicIdentity, new: PublicIdentity, user_id: int = CLIENT
) -> bytes:
    return crypto.sign_succession(
        signer,
        user_id=user_id,
        confirmer_id=THERAPIST,
        confirmed_at=1_764_583_200,
        previous_identity=previous,
        new_identity=new,
    )


async def test_a_recovery_the_therapist_confirmed_is_followed() -> None:
    found, opened = await after_recovery(lambda theo, old, new: [succession(theo, old, new)])

    assert [type(event) for event in found] == [PeerRecovered]
    assert opened == BEFORE


async def test_a_succession_signed_by_someone_else_is_an_unexplained_change() -> None:
    stranger = IdentityKeyPair.generate()

    found, opened = await after_recovery(lambda theo, old, new: [succession(stranger, old, new)])

    assert [type(event) for event in found] == [PeerKeyChanged]
    assert opened == "did not verify"


async def test_a_succession_naming_another_member_is_an_unexplained_change() -> None:
    found, opened = await after_recovery(
        lambda theo, old, new: [succession(theo, old, new, user_id=99)]
    )

    assert [type(event) for event in found] == [PeerKeyChanged]
    assert opened == "did not verify"


async def test_a_change_without_a_succession_is_an_unexplained_change() -> None:
    found, opened = await after_recovery(lambda theo, old, new: [])

    assert [type(event) for event in found] == [PeerKeyChanged]
    assert opened == "did not verify"


async def test_a_recovery_said_to_be_confirmed_by_anyone_but_the_therapist_is_not_followed() -> (
    None
):
    """Even with a succession the therapist signed, the server cannot name another
    confirmer (here the client themselves): only the conversation's therapist confirms."""
    found, opened = await after_recovery(
        lambda theo, old, new: [succession(theo, old, new)], confirmed_by=CLIENT
    )

    assert [type(event) for event in found] == [PeerKeyChanged]
    assert opened == "did not verify"
