"""The accounting of disclosures (docs/protocol.md, "Disclosures"): the requests, and the
opening of each record against the therapist's identity and the server's metadata
(crypto/SPEC.md, "Disclosure records"). ``ConfideClient`` exposes them as
:meth:`~confide_client.client.ConfideClient.record_disclosure` and
:meth:`~confide_client.client.ConfideClient.disclosures`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import crypto
from confide_client.errors import InvalidRequestError, ProtocolError
from confide_client.http import HttpApi
from confide_client.records import Disclosure
from confide_client.wire import build, decoded
from crypto import (
    ConversationKey,
    CryptoError,
    DisclosureDescription,
    IdentityKeyPair,
    PublicIdentity,
)
from protocol.http import (
    DisclosureAnswer,
    DisclosureItem,
    DisclosureRequest,
    DisclosuresAnswer,
)

__all__ = ["describe", "list_items", "open_item", "record", "seal"]


def _path(conversation: uuid.UUID) -> str:
    if not isinstance(conversation, uuid.UUID):
        raise InvalidRequestError("A conversation id is a UUID")
    return f"/api/conversations/{conversation}/disclosures"


def describe(
    disclosed_on: date, legal_basis: str, recipient: str, information: str, purpose: str
) -> DisclosureDescription:
    """The description to seal, or :class:`InvalidRequestError` saying what is wrong
    (the message never repeats the texts)."""
    try:
        return DisclosureDescription(disclosed_on, legal_basis, recipient, information, purpose)
    except CryptoError as exc:
        raise InvalidRequestError(f"The disclosure cannot be recorded: {exc}") from None


def seal(
    description: DisclosureDescription,
    key: ConversationKey,
    conversation: uuid.UUID,
    epoch: int,
    recorder: IdentityKeyPair,
    record_id: uuid.UUID,
) -> DisclosureRequest:
    """The request that records ``description``, sealed in ``epoch`` under ``record_id``."""
    try:
        sealed = crypto.seal_disclosure(description, key, conversation, epoch, recorder, record_id)
    except CryptoError as exc:
        raise InvalidRequestError(f"The disclosure cannot be recorded: {exc}") from None
    return build(
        lambda: DisclosureRequest(
            id=record_id,
            disclosed_on=description.disclosed_on,
            legal_basis=description.legal_basis,  # type: ignore[arg-type]
            epoch=epoch,
            sealed=crypto.b64encode(sealed),
        ),
        "disclosure",
    )


async def record(
    http: HttpApi, conversation: uuid.UUID, request: DisclosureRequest
) -> DisclosureItem:
    """``POST /api/conversations/<id>/disclosures``."""
    answer = await http.post(_path(conversation), request, DisclosureAnswer)
    item = answer.disclosure
    if item.id != request.id or item.conversation != conversation:
        raise ProtocolError("The server answered with another disclosure than the one recorded")
    return item


async def list_items(http: HttpApi, conversation: uuid.UUID) -> list[DisclosureItem]:
    """``GET /api/conversations/<id>/disclosures``: the records as the server lists them."""
    answer = await http.get(_path(conversation), DisclosuresAnswer)
    if any(item.conversation != conversation for item in answer.disclosures):
        raise ProtocolError("The server listed a disclosure of another conversation")
    return answer.disclosures


def open_item(
    item: DisclosureItem,
    key: ConversationKey | None,
    recorder: Sequence[PublicIdentity] | None,
) -> Disclosure:
    """One record, opened with the epoch's ``key`` against the therapist's identities
    (the current one first); a record that does not open is returned with its reason."""
    if not recorder:
        return _record(item, problem="not_therapist")
    if key is None:
        return _record(item, problem="no_key")
    try:
        sealed = decoded(item.sealed, "sealed")
    except ProtocolError:
        return _record(item, problem="FormatError")
    problem = "SignatureError"
    for identity in recorder:
        try:
            description = crypto.open_disclosure(
                sealed,
                key,
                identity,
                item.conversation,
                item.epoch,
                item.id,
                item.disclosed_on,
                item.legal_basis,
            )
        except CryptoError as exc:
            problem = type(exc).__name__
            if isinstance(exc, crypto.SignatureError):
                continue  # perhaps signed by an earlier identity of the therapist
            break
        return _record(item, description=description)
    return _record(item, problem=problem)


def _record(
    item: DisclosureItem,
    *,
    description: DisclosureDescription | None = None,
    problem: str | None = None,
) -> Disclosure:
    return Disclosure(
        id=item.id,
        conversation=item.conversation,
        recorded_by=item.recorded_by,
        recorded_at=item.recorded_at,
        disclosed_on=item.disclosed_on,
        legal_basis=item.legal_basis,
        epoch=item.epoch,
        description=description,
        problem=problem,
    )
