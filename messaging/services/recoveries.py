"""Assisted recovery, the therapist's side: the pending requests of their clients, the
conversation keys their browser wraps to a request's new identity, and the confirmation
that gives the client their account and history back (``accounts.assisted_recovery``;
crypto/SPEC.md, "Assisted recovery").

A therapist sees, and may decide, only the requests of clients they share a conversation
with (``not_found`` for any other, the same answer as for an id that names none). To
confirm, they give one envelope for each epoch of each of those conversations that the
client has a key of: the epoch's key, wrapped to the request's new identity and signed by
the therapist. A long history takes several requests (``stage_envelopes``, at most
``MAX_RECOVERY_ENVELOPES`` each); the server keeps them with the request until the
confirmation, which is one transaction: the account takes the new material, the client's
envelopes of those epochs are replaced by the therapist's (the old ones were wrapped to an
identity nobody holds any more), every session and socket of the client ends, and the
members of the client's conversations are told, after the commit.

Conversations the client has with another therapist keep the client's old envelopes,
wrapped to the replaced identity: their history stays closed to the client, and their next
epoch, whoever begins it, is wrapped to the new identity. Either therapist may confirm;
both are told of the change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import crypto
from accounts import assisted_recovery
from accounts.models import AssistedRecovery, RecoveryEnvelope, User
from audit.log import record
from crypto import CryptoError, PublicIdentity
from messaging.models import Conversation, KeyEnvelope, Membership
from messaging.services import events
from messaging.services.epochs import envelope_version_for
from protocol.audit import AuditKind
from protocol.errors import BadEnvelopesError, NotFoundError
from protocol.to_client import IdentityChangedEvent, RecoveryRequestedEvent

log = logging.getLogger(__name__)

Epochs = dict[uuid.UUID, list[int]]


def _shared(therapist_id: int, client_id: int) -> Q:
    """Conversations both are members of (the therapist still active)."""
    return Q(memberships__user_id=client_id) & Q(
        id__in=Membership.objects.filter(user_id=therapist_id, user__is_active=True).values(
            "conversation_id"
        )
    )


def needed_epochs(therapist_id: int, client_id: int) -> Epochs:
    """For each conversation of the client with the therapist, the epochs the client holds
    a key of (their whole history there), oldest first."""
    conversations = Conversation.objects.filter(_shared(therapist_id, client_id)).values("id")
    needed: Epochs = {}
    rows = (
        KeyEnvelope.objects.filter(recipient_id=client_id, conversation_id__in=conversations)
        .order_by("conversation_id", "epoch")
        .values_list("conversation_id", "epoch")
    )
    for conversation_id, epoch in rows:
        needed.setdefault(conversation_id, []).append(epoch)
    return needed


# --- listing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedRecovery:
    recovery: AssistedRecovery
    epochs: Epochs


def list_recoveries(therapist: User) -> list[ListedRecovery]:
    """The pending, unexpired requests of the therapist's clients, oldest first."""
    clients = Membership.objects.filter(
        conversation__in=Membership.objects.filter(user=therapist).values("conversation_id")
    ).values("user_id")
    rows = (
        AssistedRecovery.objects.filter(
            state=AssistedRecovery.State.PENDING,
            expires_at__gt=timezone.now(),
            client__is_active=True,
            client_id__in=clients,
        )
        .select_related("client")
        .order_by("requested_at", "pk")
    )
    return [ListedRecovery(row, needed_epochs(therapist.pk, row.client_id)) for row in rows]


def _visible(therapist: User, recovery_id: int) -> AssistedRecovery:
    """The request, whatever its state, if the therapist shares a conversation with its
    client; otherwise ``NotFoundError``, as for an id that names none."""
    recovery = AssistedRecovery.objects.filter(pk=recovery_id).select_related("client").first()
    if (
        recovery is None
        or not Conversation.objects.filter(_shared(therapist.pk, recovery.client_id)).exists()
    ):
        raise NotFoundError("No such recovery request.")
    return recovery


def _locked(therapist: User, recovery_id: int) -> AssistedRecovery:
    """The visible request, locked after its client's account (the order a new request
    takes them in too), and still pending."""
    found = _visible(therapist, recovery_id)
    User.objects.select_for_update().filter(pk=found.client_id).first()
    recovery = (
        AssistedRecovery.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=found.pk)
    )
    assisted_recovery.require_pending(recovery)
    return recovery


# --- the therapist's envelopes ------------------------------------------------------------


def _check(
    envelopes: Sequence[bytes], therapist: User, new_identity: PublicIdentity, needed: Epochs
) -> list[tuple[uuid.UUID, int, bytes]]:
    """Each envelope signed by the therapist, wrapped to the new identity, for an epoch of
    a conversation in ``needed``; none twice. ``BadEnvelopesError`` for the first that is
    not, saying which."""
    wrapper = PublicIdentity.from_bytes(bytes(therapist.public_identity))
    checked: list[tuple[uuid.UUID, int, bytes]] = []
    seen: set[tuple[uuid.UUID, int]] = set()
    for index, envelope in enumerate(envelopes):
        try:
            info = crypto.verify_envelope(envelope, wrapper)
        except CryptoError as exc:
            raise BadEnvelopesError(
                f"Envelope {index} is not signed by you, or malformed: {exc}"
            ) from None
        conversation = uuid.UUID(bytes=info.conversation_id)
        if info.epoch not in needed.get(conversation, ()):
            raise BadEnvelopesError(
                f"Envelope {index} is for an epoch of a conversation this recovery does not cover."
            )
        if info.recipient_enc_pk != new_identity.enc_key:
            raise BadEnvelopesError(
                f"Envelope {index} is not wrapped to the identity this recovery asks for."
            )
        if info.version != envelope_version_for(new_identity):
            raise BadEnvelopesError(
                f"Envelope {index} is of version {info.version}; the new identity takes "
                f"version {envelope_version_for(new_identity)}."
            )
        if (conversation, info.epoch) in seen:
            raise BadEnvelopesError(f"Envelope {index} repeats an epoch of this request.")
        seen.add((conversation, info.epoch))
        checked.append((conversation, info.epoch, envelope))
    return checked


def _stage(recovery: AssistedRecovery, therapist: User, envelopes: Sequence[bytes]) -> Epochs:
    """Checks the envelopes and keeps them with the request (an epoch given again replaces
    the one before); returns the epochs the client needs."""
    needed = needed_epochs(therapist.pk, recovery.client_id)
    new_identity = PublicIdentity.from_bytes(bytes(recovery.public_identity))
    checked = _check(envelopes, therapist, new_identity, needed)
    if checked:
        replaced = Q()
        for conversation, epoch, _ in checked:
            replaced |= Q(conversation_id=conversation, epoch=epoch)
        RecoveryEnvelope.objects.filter(replaced, recovery=recovery, wrapper=therapist).delete()
        RecoveryEnvelope.objects.bulk_create(
            RecoveryEnvelope(
                recovery=recovery,
                wrapper=therapist,
                conversation_id=conversation,
                epoch=epoch,
                envelope=envelope,
            )
            for conversation, epoch, envelope in checked
        )
    return needed


def _staged(recovery: AssistedRecovery, therapist: User) -> dict[tuple[uuid.UUID, int], bytes]:
    rows = RecoveryEnvelope.objects.filter(recovery=recovery, wrapper=therapist)
    return {(row.conversation_id, row.epoch): bytes(row.envelope) for row in rows}


Slot = tuple[uuid.UUID, int]


def _missing(needed: Epochs, staged: Iterable[Slot]) -> list[Slot]:
    have = set(staged)
    return [(c, e) for c, epochs in needed.items() for e in epochs if (c, e) not in have]


@dataclass(frozen=True)
class Staged:
    recovery: AssistedRecovery
    staged: int
    missing: int


def stage_envelopes(therapist: User, recovery_id: int, envelopes: Sequence[bytes]) -> Staged:
    """Keeps a batch of the therapist's envelopes for a pending request (a history longer
    than one request holds); nothing of the account changes."""
    with transaction.atomic():
        recovery = _locked(therapist, recovery_id)
        needed = _stage(recovery, therapist, envelopes)
        staged = _staged(recovery, therapist)
    return Staged(recovery, len(staged), len(_missing(needed, staged)))


# --- deciding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decided:
    recovery: AssistedRecovery
    client: User
    conversations: list[uuid.UUID]


def confirm_recovery(
    therapist: User, recovery_id: int, envelopes: Sequence[bytes], succession: bytes
) -> Decided:
    """The therapist compared the new identity's number with the client and confirms:
    the succession they signed must name the client's current identity and the request's
    (``bad_request`` otherwise), and with this last batch, every epoch of their
    conversations with the client must have an envelope (``bad_envelopes``, naming how
    many are missing); otherwise nothing changes."""
    with transaction.atomic():
        recovery = _locked(therapist, recovery_id)
        assisted_recovery.check_succession(recovery, therapist, succession)
        needed = _stage(recovery, therapist, envelopes)
        staged = _staged(recovery, therapist)
        missing = _missing(needed, staged)
        if missing:
            conversation, epoch = missing[0]
            total = sum(len(epochs) for epochs in needed.values())
            raise BadEnvelopesError(
                f"Envelopes are missing for {len(missing)} of the {total} epochs, the first "
                f"being epoch {epoch} of conversation {conversation}: wrap every epoch key "
                "to the new identity. Nothing was changed."
            )
        client = assisted_recovery.apply_recovery(recovery, therapist, succession)
        KeyEnvelope.objects.filter(recipient=client, conversation_id__in=list(needed)).delete()
        KeyEnvelope.objects.bulk_create(
            KeyEnvelope(
                conversation_id=conversation,
                epoch=epoch,
                recipient=client,
                wrapper=therapist,
                envelope=envelope,
            )
            for (conversation, epoch), envelope in sorted(staged.items())
        )
        _announce(client, therapist)
        record(
            AuditKind.ASSISTED_RECOVERY_CONFIRMED,
            actor=therapist,
            subject=f"user:{client.pk}",
            details={"recovery": recovery.pk, "envelopes": len(staged)},
        )
        record(
            AuditKind.IDENTITY_CHANGED,
            actor=therapist,
            subject=f"user:{client.pk}",
            details={"why": "assisted_recovery", "recovery": recovery.pk},
        )
    return Decided(recovery, client, sorted(needed))


def decline_recovery(therapist: User, recovery_id: int) -> Decided:
    """The numbers did not match, or the client did not ask: the request ends, the account
    stays as it was."""
    with transaction.atomic():
        recovery = _locked(therapist, recovery_id)
        assisted_recovery.decline(recovery, therapist)
        needed = needed_epochs(therapist.pk, recovery.client_id)
        record(
            AuditKind.ASSISTED_RECOVERY_DECLINED,
            actor=therapist,
            subject=f"user:{recovery.client_id}",
            details={"recovery": recovery.pk},
        )
    return Decided(recovery, recovery.client, sorted(needed))


def _announce(client: User, therapist: User) -> None:
    """After the commit: every member of the client's conversations, and the client, learn
    that the client's identity changed by a recovery that ``therapist`` confirmed."""
    events.publish_on_commit(
        _members_and_self(client.pk),
        IdentityChangedEvent(user=client.pk, confirmed_by=therapist.pk),
    )


def _members_and_self(user_id: int) -> list[int]:
    members = set(
        Membership.objects.filter(
            conversation__in=Membership.objects.filter(user_id=user_id).values("conversation_id")
        ).values_list("user_id", flat=True)
    )
    members.add(user_id)
    return sorted(members)


def tell_members_of_an_upgrade(sender: object, user_id: int, **kwargs: object) -> None:
    """Receives ``accounts.identity_upgrade.identity_upgraded`` (after the commit): the
    members of the person's conversations, and the person's other sessions, read the
    version-2 identity before they wrap the next epoch's key to it."""
    events.publish_on_commit(
        _members_and_self(user_id), IdentityChangedEvent(user=user_id, reason="post_quantum")
    )


def tell_therapists_of_a_request(
    sender: object, recovery_id: int, client_id: int, **kwargs: object
) -> None:
    """Receives ``accounts.assisted_recovery.recovery_requested`` (after the commit): the
    client's therapists' sockets learn that a request is waiting."""
    therapists = (
        Membership.objects.filter(
            conversation__in=Membership.objects.filter(user_id=client_id).values("conversation_id"),
            user__is_active=True,
        )
        .exclude(user_id=client_id)
        .values_list("user_id", flat=True)
        .distinct()
    )
    events.publish_on_commit(list(therapists), RecoveryRequestedEvent(recovery=recovery_id))
