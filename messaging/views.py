"""HTTP endpoints of the messaging app (docs/protocol.md, "HTTP API")."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from django.contrib.auth import login
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

import crypto
from accounts.api import api, parse_body, signed_in_user
from accounts.availability import shown
from accounts.limits import remember_place, sets_known_browser
from accounts.models import Role, User
from accounts.signup import account_keys, decode
from accounts.views import me_body, member_body
from messaging.models import KeyEnvelope, Membership, Message
from messaging.services.discharge import discharge
from messaging.services.inbox import InboxEntry, set_archived, set_label, shown_archived_at
from messaging.services.invitations import (
    ListedInvitation,
    NewInvitation,
    SignUp,
    accept_invitation,
    create_invitation,
    list_invitations,
    open_invitation,
    renew_invitation,
    revoke_invitation,
)
from protocol import http
from protocol.availability import TherapistAvailabilityAnswer
from protocol.errors import BadRequestError, NotFoundError


@api(methods=("GET", "POST"), roles=(Role.THERAPIST,))
def invitations(request: HttpRequest) -> http.InvitationsAnswer | http.InvitationAnswer:
    """``GET``: the therapist's invitations, newest first (never a token). ``POST``: a
    therapist invites a client; the link's token is shown once."""
    therapist = signed_in_user(request)
    if request.method == "GET":
        return http.InvitationsAnswer(
            invitations=[invitation_item(listed) for listed in list_invitations(therapist)]
        )
    body = parse_body(request, http.InvitationRequest)
    return invitation_answer(create_invitation(therapist, body.client_name))


def invitation_answer(new: NewInvitation) -> http.InvitationAnswer:
    """A link to give the client: the token is in the answer this once only."""
    return http.InvitationAnswer(
        id=new.invitation.pk,
        token=new.token,
        path=f"/invite#{new.token}",
        expires_at=new.invitation.expires_at,
        conversation=new.invitation.conversation_id,
    )


@api(methods=("POST",), roles=(Role.THERAPIST,))
def invitation_revoke(request: HttpRequest, invitation_id: int) -> http.InvitationItem:
    """The therapist withdraws one of their pending invitations."""
    return invitation_item(revoke_invitation(signed_in_user(request), invitation_id))


@api(methods=("POST",), roles=(Role.THERAPIST,))
def invitation_renew(request: HttpRequest, invitation_id: int) -> http.InvitationAnswer:
    """The therapist gets a new link for one of their pending invitations; the link given
    before stops working."""
    body = parse_body(request, http.RenewRequest)
    return invitation_answer(
        renew_invitation(signed_in_user(request), invitation_id, extend=body.extend)
    )


def invitation_item(listed: ListedInvitation) -> http.InvitationItem:
    invitation = listed.invitation
    return http.InvitationItem(
        id=invitation.pk,
        client_name=invitation.client_name,
        conversation=invitation.conversation_id,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        state=listed.state,
    )


@api(methods=("POST",), auth=False)
def invitation_lookup(request: HttpRequest) -> http.LookupAnswer:
    """What a client needs before accepting: whom the invitation is from, and the conversation."""
    body = parse_body(request, http.TokenRequest)
    invitation = open_invitation(body.token)
    return http.LookupAnswer(
        conversation=invitation.conversation_id,
        client_name=invitation.client_name,
        therapist=member_body(invitation.therapist),
        practice=invitation.therapist.practice.name,
        expires_at=invitation.expires_at,
    )


@sets_known_browser
@api(methods=("POST",), auth=False)
def invitation_accept(request: HttpRequest) -> http.AcceptAnswer:
    """The client signs up through the invitation and is signed in."""
    body = parse_body(request, http.AcceptRequest)
    sign_up = SignUp(
        email=body.email,
        display_name=body.display_name,
        keys=account_keys(
            auth_secret=body.auth_secret,
            kdf=body.kdf,
            public_identity=body.public_identity,
            key_bundle=body.key_bundle,
            recovery_bundle=body.recovery_bundle,
        ),
        client_envelope=decode(body.client_envelope, "client_envelope"),
        therapist_envelope=decode(body.therapist_envelope, "therapist_envelope"),
    )
    client, conversation = accept_invitation(body.token, sign_up)
    login(request, client, backend="django.contrib.auth.backends.ModelBackend")
    remember_place(request, client)
    return http.AcceptAnswer(user=me_body(client), conversation=conversation.id)


def conversation_body(membership: Membership) -> http.ConversationBody:
    conversation = membership.conversation
    memberships = conversation.memberships.all()
    envelopes = conversation.envelopes.all()  # prefetched: only the user's own
    return http.ConversationBody(
        id=conversation.id,
        status=cast(http.ConversationStatus, conversation.status),
        current_epoch=conversation.current_epoch,
        epoch_started_at=conversation.epoch_started_at,
        epoch_messages=getattr(membership, "epoch_messages", 0),
        last_seq=conversation.last_seq,
        last_message_at=conversation.last_message_at,
        last_read_seq=membership.last_read_seq,
        unread=getattr(membership, "unread", 0),
        members=[member_body(m.user) for m in memberships],
        read_seqs={str(m.user_id): m.last_read_seq for m in memberships},
        envelopes=[
            http.EnvelopeBody(
                epoch=e.epoch, wrapper=e.wrapper_id, envelope=crypto.b64encode(bytes(e.envelope))
            )
            for e in sorted(envelopes, key=lambda e: e.epoch)
        ],
        label=membership.label,
        archived_at=shown_archived_at(
            membership.archived_at, getattr(membership, "last_incoming_at", None)
        ),
        discharged_at=conversation.discharged_at,
        erased_at=conversation.erased_at,
    )


def _memberships(
    user: User, conversation_id: uuid.UUID | None = None, *, current_envelopes: bool = False
) -> QuerySet[Membership]:
    """The user's memberships with what conversation_body shows, newest activity first
    (the last message, or the start for a conversation without one), read in three
    queries; with ``current_envelopes``, only the current epoch's envelope of each.

    Each figure is read from the conversation's messages through its (conversation, seq)
    index, never by joining every stored message: the unread ones are the range after
    the member's last read, the other member's latest the first found from the newest
    back, and the current epoch's count is arithmetic (``epoch_start_seq``)."""
    query = Membership.objects.filter(user=user, user__is_active=True)
    if conversation_id is not None:
        query = query.filter(conversation_id=conversation_id)
    theirs = Message.objects.filter(conversation_id=OuterRef("conversation_id")).exclude(
        sender=user
    )
    envelopes = KeyEnvelope.objects.filter(recipient=user)
    if current_envelopes:
        envelopes = envelopes.filter(epoch=F("conversation__current_epoch"))
    return (
        query.select_related("conversation")
        .annotate(
            unread=Coalesce(
                Subquery(
                    theirs.filter(seq__gt=OuterRef("last_read_seq"))
                    .values("conversation_id")
                    .annotate(n=Count("*"))
                    .values("n")
                ),
                0,
            ),
            epoch_messages=F("conversation__last_seq") - F("conversation__epoch_start_seq"),
            # When the other member last wrote: a newer message ends an archive.
            last_incoming_at=Subquery(theirs.order_by("-seq").values("created_at")[:1]),
            activity=Coalesce("conversation__last_message_at", "conversation__created_at"),
        )
        .prefetch_related(
            # In the order they joined, whichever plan the database picks.
            Prefetch(
                "conversation__memberships",
                queryset=Membership.objects.select_related("user").order_by("pk"),
            ),
            Prefetch("conversation__envelopes", queryset=envelopes),
        )
        .order_by("-activity", "-conversation_id")
    )


# The most conversations one page of the listing holds.
LISTING_PAGE_MAX = 200
# A paged listing's last page also holds every conversation active since this long before
# its first page: a message stored while the pages are read moves its conversation ahead
# of the cursor, where no later page would find it. The margin covers a batch's time
# between its clock reading and its commit, and the clocks of several hosts.
LISTING_MOVED_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class ListingCursor:
    """Where the next page of a paged listing begins: after the conversation last listed
    (its activity and id), and since when moved conversations are listed again."""

    activity: datetime
    conversation_id: uuid.UUID
    since: datetime

    def encode(self) -> str:
        text = f"{_micros(self.activity)}.{self.conversation_id.hex}.{_micros(self.since)}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> ListingCursor:
        """The cursor ``encode`` made; anything else is refused. It names a place in the
        caller's own listing only (the pages read their memberships, whatever it says)."""
        try:
            if len(value) > 200:
                raise ValueError("too long")
            text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            activity, conversation_id, since = text.split(".")
            return cls(_from_micros(activity), uuid.UUID(hex=conversation_id), _from_micros(since))
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
            raise BadRequestError("after is not a cursor this listing gave.") from None


def _micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


# Microseconds since 1970: at most 17 ASCII digits (until the year 5138).
_MICROS = re.compile(r"[0-9]{1,17}")
# A page's limit: 1 to 200, ASCII digits, no sign or leading zero.
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")


def _from_micros(text: str) -> datetime:
    if not _MICROS.fullmatch(text):
        raise ValueError(text)
    seconds, micros = divmod(int(text), 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def _page_limit(value: str | None) -> int | None:
    if value is None:
        return None
    if not _LIMIT.fullmatch(value) or int(value) > LISTING_PAGE_MAX:
        raise BadRequestError(f"limit is a whole number from 1 to {LISTING_PAGE_MAX}.")
    return int(value)


def listing_page(
    memberships: QuerySet[Membership], limit: int, after: ListingCursor | None
) -> tuple[list[Membership], ListingCursor | None]:
    """One page of ``_memberships``, newest activity first, and the cursor of the next
    (``None`` after the last). The last page of a listing of several also holds the
    conversations active since its first page began (``LISTING_MOVED_SLACK``), which the
    client may have been given already: it takes each conversation's latest."""
    since = after.since if after else timezone.now() - LISTING_MOVED_SLACK
    page = memberships
    if after is not None:
        page = page.filter(
            Q(activity__lt=after.activity)
            | Q(activity=after.activity, conversation_id__lt=after.conversation_id)
        )
    found = list(page[: limit + 1])
    if len(found) > limit:
        last = found[limit - 1]
        activity = cast(datetime, last.activity)  # type: ignore[attr-defined]
        return found[:limit], ListingCursor(activity, last.conversation_id, since)
    if after is not None:
        listed = {m.conversation_id for m in found}
        found += [
            m for m in memberships.filter(Q(activity__gte=since)) if m.conversation_id not in listed
        ]
    return found, None


@api(methods=("GET",))
def conversations(request: HttpRequest) -> http.ConversationsAnswer | http.ConversationsPage:
    """The user's conversations, newest activity first, with members, unread counts and keys:
    every epoch's envelope, or with ``?envelopes=current`` only the current epoch's (what
    sign-in then downloads grows with the conversations, not with their years; the detail
    gives a conversation's others when one is first needed). With ``?limit=N``, a page of
    at most N and the cursor of the next (``?after=``), so that an inbox shows before a
    long listing has arrived (docs/protocol.md)."""
    user = signed_in_user(request)
    which = request.GET.get("envelopes", "all")
    if which not in ("all", "current"):
        raise BadRequestError("envelopes is all or current.")
    limit = _page_limit(request.GET.get("limit"))
    after = request.GET.get("after")
    if after is not None and limit is None:
        raise BadRequestError("after needs a limit.")
    cursor = ListingCursor.decode(after) if after is not None else None
    memberships = _memberships(user, current_envelopes=which == "current")
    if limit is None:
        return http.ConversationsAnswer(conversations=[conversation_body(m) for m in memberships])
    page, following = listing_page(memberships, limit, cursor)
    return http.ConversationsPage(
        conversations=[conversation_body(m) for m in page],
        next=following.encode() if following else None,
    )


@api(methods=("GET",))
def conversation_detail(
    request: HttpRequest, conversation_id: uuid.UUID
) -> http.ConversationAnswer:
    user = signed_in_user(request)
    found = _memberships(user, conversation_id)
    if not found:
        raise NotFoundError("No such conversation.")
    return http.ConversationAnswer(conversation=conversation_body(found[0]))


@api(methods=("GET",))
def conversation_availability(
    request: HttpRequest, conversation_id: uuid.UUID
) -> TherapistAvailabilityAnswer:
    """The availability of the conversation's therapist, for its members: what a client
    sees above the composer (``accounts.availability``)."""
    user = signed_in_user(request)
    if not Membership.objects.filter(user=user, conversation_id=conversation_id).exists():
        raise NotFoundError("No such conversation.")
    therapist = (
        User.objects.filter(
            memberships__conversation_id=conversation_id,
            role=Role.THERAPIST,
            is_active=True,
        )
        .select_related("practice")
        .first()
    )
    return TherapistAvailabilityAnswer(
        availability=shown(therapist) if therapist is not None else None
    )


@api(methods=("POST",), roles=(Role.THERAPIST,))
def conversation_label(request: HttpRequest, conversation_id: uuid.UUID) -> http.InboxEntryAnswer:
    """The therapist names the conversation for themselves (the client never sees it)."""
    body = parse_body(request, http.LabelRequest)
    return inbox_entry(set_label(signed_in_user(request), conversation_id, body.label))


@api(methods=("POST",), roles=(Role.THERAPIST,))
def conversation_archive(request: HttpRequest, conversation_id: uuid.UUID) -> http.InboxEntryAnswer:
    """The therapist archives the conversation for themselves, or brings it back."""
    body = parse_body(request, http.ArchiveRequest)
    return inbox_entry(set_archived(signed_in_user(request), conversation_id, body.archived))


@api(methods=("POST",), roles=(Role.THERAPIST,))
def conversation_discharge(
    request: HttpRequest, conversation_id: uuid.UUID
) -> http.ConversationAnswer:
    """The therapist discharges the conversation: read-only for both members from now on,
    kept for the practice's retention (``services.discharge``)."""
    user = signed_in_user(request)
    discharge(user, conversation_id, request)
    shown = _memberships(user, conversation_id)[0]
    return http.ConversationAnswer(conversation=conversation_body(shown))


def inbox_entry(entry: InboxEntry) -> http.InboxEntryAnswer:
    return http.InboxEntryAnswer(
        conversation=entry.conversation, label=entry.label, archived_at=entry.archived_at
    )
