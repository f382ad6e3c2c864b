"""Reading the server's JSON into typed values, refusing anything off the documented shape.

The server is not trusted with content, and a client that crashed on a malformed answer
would hand it a denial of service; so every answer is checked here and a bad one raises
:class:`ProtocolError`, never ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crypto import CryptoError, KdfParams, PublicIdentity, b64decode
from portal.client.errors import ProtocolError
from portal.client.records import Account, Member

__all__ = [
    "ConversationData",
    "EnvelopeData",
    "MessageData",
    "as_bool",
    "as_dict",
    "as_int",
    "as_list",
    "as_str",
    "as_uuid",
    "parse_account",
    "parse_conversation",
    "parse_kdf",
    "parse_member",
    "parse_message",
]


def as_dict(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ProtocolError(f"{name} is missing or not an object")
    return value


def as_list(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    if not isinstance(value, list):
        raise ProtocolError(f"{name} is missing or not a list")
    return value


def as_int(data: dict[str, Any], name: str, *, minimum: int = 0) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ProtocolError(f"{name} is missing or not an integer >= {minimum}")
    return value


def as_str(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"{name} is missing or not a string")
    return value


def as_bool(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    if not isinstance(value, bool):
        raise ProtocolError(f"{name} is missing or not a boolean")
    return value


def as_uuid(data: dict[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(as_str(data, name))
    except ValueError:
        raise ProtocolError(f"{name} is not a UUID") from None


def as_datetime(data: dict[str, Any], name: str) -> datetime:
    try:
        value = datetime.fromisoformat(as_str(data, name))
    except ValueError:
        raise ProtocolError(f"{name} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ProtocolError(f"{name} has no UTC offset")
    return value


def as_bytes(data: dict[str, Any], name: str) -> bytes:
    try:
        return b64decode(as_str(data, name))
    except CryptoError:
        raise ProtocolError(f"{name} is not base64url") from None


def as_identity(data: dict[str, Any], name: str) -> PublicIdentity:
    try:
        return PublicIdentity.from_bytes(as_bytes(data, name))
    except CryptoError as exc:
        raise ProtocolError(f"{name} is not a valid public identity: {exc}") from None


def parse_member(data: Any) -> Member:
    if not isinstance(data, dict):
        raise ProtocolError("A member is not an object")
    return Member(
        id=as_int(data, "id", minimum=1),
        display_name=as_str(data, "display_name"),
        role=as_str(data, "role"),
        identity=as_identity(data, "public_identity"),
    )


def parse_account(data: Any) -> Account:
    """The ``Me`` object of the sign-in, accept and ``/api/me`` answers."""
    if not isinstance(data, dict):
        raise ProtocolError("The user is not an object")
    practice = as_dict(data, "practice")
    return Account(
        id=as_int(data, "id", minimum=1),
        email=as_str(data, "email"),
        display_name=as_str(data, "display_name"),
        role=as_str(data, "role"),
        practice_id=as_int(practice, "id"),
        practice_name=as_str(practice, "name"),
        identity=as_identity(data, "public_identity"),
    )


def parse_kdf(data: dict[str, Any]) -> tuple[bytes, KdfParams]:
    """The salt and Argon2id parameters; out-of-bounds parameters (a downgrade by a hostile
    server, or a cost that would freeze the machine) are refused by ``KdfParams``."""
    if as_str(data, "algorithm") != "argon2id13":
        raise ProtocolError("Unknown key derivation algorithm")
    salt = as_bytes(data, "salt")
    try:
        params = KdfParams(as_int(data, "opslimit"), as_int(data, "memlimit"))
    except CryptoError as exc:
        raise ProtocolError(f"Refused key derivation parameters: {exc}") from None
    return salt, params


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


def parse_conversation(data: Any) -> ConversationData:
    if not isinstance(data, dict):
        raise ProtocolError("A conversation is not an object")
    read_seqs: dict[int, int] = {}
    for user, seq in as_dict(data, "read_seqs").items():
        if not (isinstance(user, str) and user.isdigit()) or isinstance(seq, bool):
            raise ProtocolError("read_seqs must map user ids to sequence numbers")
        if not isinstance(seq, int):
            raise ProtocolError("read_seqs must map user ids to sequence numbers")
        read_seqs[int(user)] = seq
    envelopes = []
    for item in as_list(data, "envelopes"):
        if not isinstance(item, dict):
            raise ProtocolError("An envelope entry is not an object")
        envelopes.append(
            EnvelopeData(
                epoch=as_int(item, "epoch"),
                wrapper=as_int(item, "wrapper", minimum=1),
                envelope=as_bytes(item, "envelope"),
            )
        )
    return ConversationData(
        id=as_uuid(data, "id"),
        status=as_str(data, "status"),
        current_epoch=as_int(data, "current_epoch"),
        last_seq=as_int(data, "last_seq"),
        last_read_seq=as_int(data, "last_read_seq"),
        unread=as_int(data, "unread"),
        members=tuple(parse_member(m) for m in as_list(data, "members")),
        read_seqs=read_seqs,
        envelopes=tuple(envelopes),
    )


@dataclass(frozen=True, slots=True)
class MessageData:
    """A stored message as the server sends it (pushes, ``sync`` and ``history``)."""

    conversation: uuid.UUID
    seq: int
    client_message_id: uuid.UUID
    epoch: int
    sender: int
    ciphertext: bytes
    sent_at: datetime


def parse_message(data: Any) -> MessageData:
    if not isinstance(data, dict):
        raise ProtocolError("A message is not an object")
    return MessageData(
        conversation=as_uuid(data, "conversation"),
        seq=as_int(data, "seq", minimum=1),
        client_message_id=as_uuid(data, "client_message_id"),
        epoch=as_int(data, "epoch"),
        sender=as_int(data, "sender", minimum=1),
        ciphertext=as_bytes(data, "ciphertext"),
        sent_at=as_datetime(data, "sent_at"),
    )
