"""A member's own filing of their conversations: a label (a therapist's name for a client)
and an archive. Both live on the member's ``Membership`` and are shown to that member only.

An archived conversation still receives messages. It is shown archived only until the other
member writes after it was archived: a client's new message brings it back to the main list
by itself. That is worked out whenever the conversation is listed (``shown_archived_at``),
from the time of the other member's latest message, so that storing a message writes
nothing more and no message can be missed; the browser applies the same rule to the
messages that reach an open inbox. The member's own messages leave it archived.

A label is plaintext metadata, like the client's name on an invitation: the server keeps
it as typed (docs/threat-model.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from messaging.models import Membership, Message
from protocol.errors import BadRequestError, NotFoundError


@dataclass(frozen=True)
class InboxEntry:
    """The member's label for a conversation ("": none) and when they archived it (None:
    not archived, or archived and written to by the other member since)."""

    conversation: uuid.UUID
    label: str
    archived_at: datetime | None


def shown_archived_at(
    archived_at: datetime | None, last_incoming_at: datetime | None
) -> datetime | None:
    """``archived_at``, unless the other member wrote after it (then: not archived)."""
    if archived_at is None:
        return None
    if last_incoming_at is not None and last_incoming_at > archived_at:
        return None
    return archived_at


def set_label(user: User, conversation_id: uuid.UUID, label: str) -> InboxEntry:
    """Sets the member's own label for the conversation; ``""`` removes it."""
    membership = _own_membership(user, conversation_id)
    membership.label = _clean_label(label)
    membership.save(update_fields=["label"])
    return _entry(membership)


def set_archived(user: User, conversation_id: uuid.UUID, archived: bool) -> InboxEntry:
    """Archives the conversation for this member (from now), or brings it back."""
    membership = _own_membership(user, conversation_id)
    membership.archived_at = timezone.now() if archived else None
    membership.save(update_fields=["archived_at"])
    return _entry(membership)


def _own_membership(user: User, conversation_id: uuid.UUID) -> Membership:
    """The user's membership; a conversation they are not in is ``not_found``, exactly as
    one that does not exist."""
    membership = Membership.objects.filter(
        user=user, user__is_active=True, conversation_id=conversation_id
    ).first()
    if membership is None:
        raise NotFoundError("No such conversation.")
    return membership


def _clean_label(label: str) -> str:
    """Trimmed, and checked against the field's rules (length, no control characters), for
    callers that did not come through ``protocol.http.LabelRequest``."""
    label = label.strip()
    try:
        Membership._meta.get_field("label").run_validators(label)
    except ValidationError as exc:
        raise BadRequestError(f"Invalid label: {' '.join(exc.messages)}") from None
    return label


def _entry(membership: Membership) -> InboxEntry:
    # From the newest back through the (conversation, seq) index, to the first found.
    last_incoming_at: datetime | None = (
        Message.objects.filter(conversation_id=membership.conversation_id)
        .exclude(sender_id=membership.user_id)
        .order_by("-seq")
        .values_list("created_at", flat=True)
        .first()
    )
    return InboxEntry(
        conversation=membership.conversation_id,
        label=membership.label,
        archived_at=shown_archived_at(membership.archived_at, last_incoming_at),
    )
