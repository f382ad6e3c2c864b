"""An envelope the server says this user wrapped is checked against the keys this client
holds, never against an identity the server lists for them: a server could list one of
its own as theirs, sign a key of its choice with it, and have the client seal with it.
Listed with the envelopes and sent as an ``epoch`` event alike."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

import crypto
from confide_client import ConfideClient
from crypto import ConversationKey, IdentityKeyPair, b64encode
from protocol.http import ConversationBody
from protocol.to_client import EpochEvent
from tests.client.conftest import Practice, SignIn
from tests.client.stand_in_portal import Person

FORGED = IdentityKeyPair.generate()


def _envelope(practice: Practice, epoch: int, signer: IdentityKeyPair) -> bytes:
    return crypto.wrap_conversation_key(
        ConversationKey.generate(),
        practice.conversation,
        epoch,
        practice.client.material.public_identity,
        signer,
        int(time.time() * 1000),
    )


def _list_as_forged(practice: Practice, monkeypatch: pytest.MonkeyPatch, who: Person) -> None:
    listing = practice.portal._listing

    def forged(conversation: Any, user: Person) -> ConversationBody:
        body = listing(conversation, user)
        members = [
            m.model_copy(update={"public_identity": b64encode(FORGED.public.to_bytes())})
            if m.id == who.id
            else m
            for m in body.members
        ]
        return body.model_copy(update={"members": members})

    monkeypatch.setattr(practice.portal, "_listing", forged)


def _has_key(client: ConfideClient, conversation: uuid.UUID, epoch: int) -> bool:
    return client._keyring.get(conversation, epoch) is not None


async def test_a_listed_key_wrapped_under_a_made_up_identity_of_this_user_is_refused(
    practice: Practice, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    clara = await sign_in(practice.client, connect=False)
    conversation = practice.portal.conversations[practice.conversation]
    conversation.epoch = 1
    conversation.envelopes[(1, practice.client.id)] = (
        practice.client.id,
        _envelope(practice, 1, FORGED),
    )
    _list_as_forged(practice, monkeypatch, practice.client)
    await clara.conversations()
    assert not _has_key(clara, practice.conversation, 1)


async def test_a_key_this_user_really_wrapped_is_taken(practice: Practice, sign_in: SignIn) -> None:
    clara = await sign_in(practice.client, connect=False)
    conversation = practice.portal.conversations[practice.conversation]
    conversation.epoch = 1
    conversation.envelopes[(1, practice.client.id)] = (
        practice.client.id,
        _envelope(practice, 1, practice.client.identity),
    )
    await clara.conversations()
    assert _has_key(clara, practice.conversation, 1)


async def test_an_epoch_event_of_this_user_under_a_made_up_identity_is_refused(
    practice: Practice, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    _list_as_forged(practice, monkeypatch, practice.client)
    clara = await sign_in(practice.client, connect=False)
    await clara.conversations()

    def event(epoch: int, signer: IdentityKeyPair) -> EpochEvent:
        return EpochEvent(
            conversation=practice.conversation,
            epoch=epoch,
            wrapper=practice.client.id,
            envelope=b64encode(_envelope(practice, epoch, signer)),
        )

    with pytest.raises(crypto.SignatureError):
        await clara._accept_epoch(event(1, FORGED))
    await clara._accept_epoch(event(2, practice.client.identity))
    assert not _has_key(clara, practice.conversation, 1)
    assert _has_key(clara, practice.conversation, 2), "one its own keys signed is taken"
