"""From the protocol's models to the client's own records, checking what a schema cannot.

``protocol.http`` and ``protocol.to_client`` check every answer's and frame's shape; what
they cannot check is whether the bytes inside mean anything: a public identity that is not
one, a base64 text that does not decode, key derivation parameters a hostile server chose
to make a password cheap to guess (or a machine freeze). The server is not trusted with
content, and a client that crashed on such an answer would hand it a denial of service; so
each of those raises :class:`ProtocolError` here, never ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from confide_client.errors import (
    InvalidRequestError,
    ProtocolError,
    WeakParametersError,
)
from confide_client.records import AcceptedAgreement, Account, Member
from crypto import CryptoError, KdfParams, PublicIdentity, b64decode, check_served_params
from protocol.common import describe
from protocol.http import ConversationBody, KdfBody, MeBody, MemberBody
from protocol.to_client import MessageFrame

__all__ = [
    "ConversationData",
    "EnvelopeData",
    "MessageData",
    "build",
    "decoded",
    "parse_account",
    "parse_conversation",
    "parse_identity",
    "parse_kdf",
    "parse_member",
    "parse_message",
    "read_json",
]

M = TypeVar("M", bound=BaseModel)


def read_json(model: type[M], text: str | bytes, what: str) -> M:
    """``text`` read as ``model``, or :class:`ProtocolError` naming the first field that is
    wrong (never its value, which may be key material)."""
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise ProtocolError(f"{what} is off the protocol: {describe(exc)}") from None


def build(make: Callable[[], M], what: str) -> M:
    """A request made from the caller's values, or :class:`InvalidRequestError` when one of
    them is outside what the protocol allows. Only the field is named: pydantic's own
    message would repeat the value, which may be an authentication secret."""
    try:
        return make()
    except ValidationError as exc:
        raise InvalidRequestError(f"The {what} cannot be sent: {describe(exc)}") from None


def decoded(value: str, name: str) -> bytes:
    """base64url text as bytes; the schema checks the alphabet, not the length."""
    try:
        return b64decode(value)
    except CryptoError:
        raise ProtocolError(f"{name} is not base64url") from None


def parse_identity(value: str, name: str) -> PublicIdentity:
    """A public identity from base64url; :class:`ProtocolError` if it is not a valid one."""
    return _identity(value, name)


def _identity(value: str, name: str) -> PublicIdentity:
    try:
        return PublicIdentity.from_bytes(decoded(value, name))
    except CryptoError as exc:
        raise ProtocolError(f"{name} is not a valid public identity: {exc}") from None


def parse_member(body: MemberBody) -> Member:
    changed = body.identity_changed
    return Member(
        id=body.id,
        display_name=body.display_name,
        role=body.role,
        identity=_identity(body.public_identity, "public_identity"),
        confirmed_by=changed.confirmed_by if changed is not None else None,
        successions=tuple(decoded(text, "succession") for text in changed.successions)
        if changed is not None
        else (),
    )


def parse_account(body: MeBody) -> Account:
    """The ``Me`` object of the sign-in, accept and ``/api/me`` answers."""
    return Account(
        id=body.id,
        email=body.email,
        display_name=body.display_name,
        role=body.role,
        practice_id=body.practice.id,
        practice_name=body.practice.name,
        identity=_identity(body.public_identity, "public_identity"),
        crisis_lines=tuple((line.label, line.number) for line in body.practice.crisis_lines),
        agreement=(
            None
            if body.agreement is None
            else AcceptedAgreement(body.agreement.version, body.agreement.accepted_at)
        ),
    )


def parse_kdf(body: KdfBody, floor: KdfParams) -> tuple[bytes, KdfParams]:
    """The salt and Argon2id parameters of an account, checked before any use: parameters
    out of the format's bounds (a cost that would freeze the machine) are a
    :class:`ProtocolError`, parameters below ``floor`` (a downgrade by a hostile server) a
    :class:`WeakParametersError`."""
    salt = decoded(body.salt, "salt")
    try:
        params = KdfParams(body.opslimit, body.memlimit)
    except CryptoError as exc:
        raise ProtocolError(f"Refused key derivation parameters: {exc}") from None
    try:
        return salt, check_served_params(params, floor)
    except CryptoError as exc:
        raise WeakParametersError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class EnvelopeData:
    epoch: int
    wrapper: int
    envelope: bytes


@dataclass(frozen=True, slots=True)
class ConversationData:
    id: uuid.UUID
    status: str
    current_epoch: int
    last_seq: int
    last_read_seq: int
    unread: int
    members: tuple[Member, ...]
    read_seqs: dict[int, int]
    envelopes: tuple[EnvelopeData, ...]


def parse_conversation(body: ConversationBody) -> ConversationData:
    return ConversationData(
        id=body.id,
        status=body.status,
        current_epoch=body.current_epoch,
        last_seq=body.last_seq,
        last_read_seq=body.last_read_seq,
        unread=body.unread,
        members=tuple(parse_member(member) for member in body.members),
        # The schema allows only decimal user ids as keys.
        read_seqs={int(user): seq for user, seq in body.read_seqs.items()},
        envelopes=tuple(
            EnvelopeData(item.epoch, item.wrapper, decoded(item.envelope, "envelope"))
            for item in body.envelopes
        ),
    )


@dataclass(frozen=True, slots=True)
class MessageData:
    """A stored message as the server sends it (pushes, ``sync`` and ``history``), its
    ciphertext decoded."""

    conversation: uuid.UUID
    seq: int
    client_message_id: uuid.UUID
    epoch: int
    sender: int
    ciphertext: bytes
    sent_at: datetime


def parse_message(frame: MessageFrame) -> MessageData:
    return MessageData(
        conversation=frame.conversation,
        seq=frame.seq,
        client_message_id=frame.client_message_id,
        epoch=frame.epoch,
        sender=frame.sender,
        ciphertext=decoded(frame.ciphertext, "ciphertext"),
        sent_at=frame.sent_at,
    )
