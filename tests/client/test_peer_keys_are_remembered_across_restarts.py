"""The identities a client has seen for its peers are kept in a file (mode 0600), so a
peer's key that changed while the client was not running still raises a warning when it
starts again; and an epoch started by a member the client learns of only by listing the
conversations again is accepted with that new listing."""

from __future__ import annotations

import json
import stat
import time
import uuid
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

import crypto
from confide_client import cli
from confide_client.client import ConfideClient, _Conversation
from confide_client.errors import StateFileError
from confide_client.identities import IdentityFile, SeenIdentities
from confide_client.records import Account, EpochStarted, Member, PeerKeyChanged
from crypto import ConversationKey, IdentityKeyPair
from protocol.to_client import EpochEvent

SERVER = "http://127.0.0.1:8000"
ME, PEER = 5, 7

A = TypeVar("A", bound=BaseModel)


class Listing:
    """Stands in for ``GET /api/conversations``: one conversation of me and my therapist."""

    def __init__(self, me: IdentityKeyPair, peer: IdentityKeyPair) -> None:
        self.conversation = uuid.uuid4()
        self.me = me
        self.peer = peer

    def member(self, user_id: int, role: str, identity: IdentityKeyPair) -> dict[str, Any]:
        return {
            "id": user_id,
            "display_name": f"user {user_id}",
            "role": role,
            "public_identity": crypto.b64encode(identity.public.to_bytes()),
        }

    async def get(self, path: str, answer: type[A]) -> A:
        assert path == "/api/conversations"
        return answer.model_validate_json(json.dumps(self.listing()))

    def listing(self) -> dict[str, Any]:
        return {
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
                    "members": [
                        self.member(ME, "client", self.me),
                        self.member(PEER, "therapist", self.peer),
                    ],
                    "read_seqs": {},
                    "envelopes": [],
                }
            ]
        }


def signed_in(listing: Listing, seen: SeenIdentities | None = None) -> ConfideClient:
    """A client signed in as ``ME`` whose HTTP answers come from ``listing``."""
    client = ConfideClient(SERVER, seen_identities=seen)
    account = Account(ME, "me@client.invalid", "Me", "client", 1, "P", listing.me.public)
    client._become(account, listing.me)
    client._http.get = listing.get  # type: ignore[method-assign]
    return client


def events(client: ConfideClient) -> list[object]:
    out: list[object] = []
    while not client.events.empty():
        out.append(client.events.get_nowait())
    return out


async def test_a_key_changed_while_the_client_was_not_running_is_noticed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state" / "seen-identities.json"
    me = IdentityKeyPair.generate()
    listing = Listing(me, IdentityKeyPair.generate())
    before = signed_in(listing, IdentityFile(path))
    await before.conversations()
    assert events(before) == []
    await before.close()

    listing.peer = IdentityKeyPair.generate()  # the server now serves another key
    after = signed_in(listing, IdentityFile(path))
    await after.conversations()

    assert events(after) == [PeerKeyChanged(listing.conversation, PEER)]
    await after.close()


async def test_an_unchanged_key_after_a_restart_raises_nothing(tmp_path: Path) -> None:
    path = tmp_path / "seen-identities.json"
    listing = Listing(IdentityKeyPair.generate(), IdentityKeyPair.generate())
    for _ in range(2):
        client = signed_in(listing, IdentityFile(path))
        await client.conversations()
        assert events(client) == []
        await client.close()


def test_the_file_is_private_and_holds_only_public_identities(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "seen-identities.json"
    peer = IdentityKeyPair.generate()
    store = IdentityFile(path)
    store.remember("http://127.0.0.1:8000 5", PEER, peer.public)
    store.saw_pins("http://127.0.0.1:8000 5", 4)
    store.saw_pins("http://127.0.0.1:8000 5", 3)  # never goes back

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = json.loads(path.read_text())
    assert saved == {
        "format": 1,
        "accounts": {
            "http://127.0.0.1:8000 5": {str(PEER): crypto.b64encode(peer.public.to_bytes())}
        },
        "pins": {"http://127.0.0.1:8000 5": 4},
    }
    again = IdentityFile(path)
    assert again.seen("http://127.0.0.1:8000 5", PEER) == peer.public
    assert again.pins_counter("http://127.0.0.1:8000 5") == 4
    assert again.pins_counter("http://127.0.0.1:8000 6") == 0
    # Another account, or the same id on another server, is another trust record.
    assert again.seen("http://127.0.0.1:8000 6", PEER) is None
    assert again.seen("https://portal.example.org 5", PEER) is None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"format": 2, "accounts": {}}',
        '{"format": 1, "accounts": {"s 5": {"seven": "AAAA"}}}',
        '{"format": 1, "accounts": {"s 5": {"7": "not an identity"}}}',
        '{"format": 1, "accounts": {}, "pins": {"s 5": -1}}',
        '{"format": 1, "accounts": {}, "pins": {"s 5": true}}',
        '{"format": 1, "accounts": {}, "pins": []}',
    ],
    ids=[
        "not JSON",
        "a list",
        "a later format",
        "a user id not a number",
        "a bad identity",
        "a negative pin counter",
        "a pin counter that is not a number",
        "pin counters not an object",
    ],
)
def test_a_damaged_file_is_refused_clearly_and_left_as_it_is(tmp_path: Path, content: str) -> None:
    path = tmp_path / "seen-identities.json"
    path.write_text(content)

    with pytest.raises(StateFileError, match=str(path)):
        IdentityFile(path)
    assert path.read_text() == content


async def test_an_epoch_from_a_member_learned_by_listing_again_is_accepted() -> None:
    me, peer = IdentityKeyPair.generate(), IdentityKeyPair.generate()
    listing = Listing(me, peer)
    client = signed_in(listing)
    # What the client held before: the conversation without the member who now rekeys.
    client._conversations[listing.conversation] = _Conversation(
        id=listing.conversation,
        status="active",
        current_epoch=0,
        last_seq=0,
        last_read_seq=0,
        unread=0,
        members={ME: Member(ME, "Me", "client", me.public)},
        read_seqs={},
    )
    key = ConversationKey.generate()
    envelope = crypto.wrap_conversation_key(
        key, listing.conversation, 1, me.public, peer, int(time.time() * 1000)
    )

    await client._accept_epoch(
        EpochEvent(
            conversation=listing.conversation,
            epoch=1,
            wrapper=PEER,
            envelope=crypto.b64encode(envelope),
        )
    )

    assert client.conversation_key(listing.conversation, 1) == key
    assert client._conversations[listing.conversation].current_epoch == 1
    assert events(client) == [EpochStarted(listing.conversation, 1, PEER)]
    await client.close()


def test_the_chat_stops_at_a_damaged_identity_file_before_asking_for_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "seen-identities.json"
    path.write_text("{damaged")

    # No server runs: a chat that got as far as the password would say it cannot reach it.
    status = cli.main(["--email", "me@client.invalid", "--state", str(tmp_path)])

    assert status == 5
    assert str(path) in capsys.readouterr().err
    assert path.read_text() == "{damaged"
