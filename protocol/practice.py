"""The HTTP bodies of running a practice (docs/protocol.md, "Practice administration"):
staff accounts made through one-time setup links, and the admin console's endpoints under
``/api/admin/``. Nothing here carries message content or a key: an admin manages people
and texts, never conversations.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field

from protocol.common import Strict, Time, UserId
from protocol.http import (
    TEXT_FORBIDDEN,
    AgreementText,
    AgreementVersion,
    AuthSecret,
    Email,
    KdfBody,
    KeyMaterial,
    Name,
    RoleName,
    Token,
)

__all__ = [
    "AdminAgreementAnswer",
    "AdminInvitationItem",
    "AdminInvitationsAnswer",
    "AdminRecordAnswer",
    "AdminRecordItem",
    "AdminRecordsAnswer",
    "AgreementVersionItem",
    "ClientAcceptanceItem",
    "CrisisLine",
    "ErasureReason",
    "ErasureRequest",
    "MemberActiveRequest",
    "MemberAnswer",
    "MemberItem",
    "MembersAnswer",
    "PracticeSettings",
    "PracticeSettingsAnswer",
    "PublishAgreementRequest",
    "SetupAcceptRequest",
    "SetupLinkAnswer",
    "SetupLinkItem",
    "SetupLinkItemAnswer",
    "SetupLinkRequest",
    "SetupLinksAnswer",
    "SetupLookupAnswer",
    "StaffRoleName",
]

# Text people read: nothing of TEXT_FORBIDDEN (line breaks included: a paragraph is one
# item of a list); a line has no space at either end.
Line = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=rf"^[^\s{TEXT_FORBIDDEN}](?:[^{TEXT_FORBIDDEN}]*[^\s{TEXT_FORBIDDEN}])?$",
    ),
]
Paragraph = Annotated[str, Field(min_length=1, max_length=4000, pattern=rf"^[^{TEXT_FORBIDDEN}]+$")]
# A number to call or text: digits, spaces and + - ( ), as people write them.
PhoneNumber = Annotated[str, Field(min_length=2, max_length=32, pattern=r"^\+?[0-9][0-9 ()-]*$")]
TimeZoneName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]
RetentionYears = Annotated[int, Field(ge=1, le=100)]
StaffRoleName = Literal["therapist", "admin"]
LinkState = Literal["pending", "used", "expired", "revoked"]


# --- setup links ---------------------------------------------------------------------------


class SetupLookupAnswer(Strict):
    """``POST /api/setup/lookup`` (body: ``TokenRequest``): what a pending setup link makes."""

    practice: str
    role: StaffRoleName
    email: str
    display_name: str
    expires_at: Time


class SetupAcceptRequest(Strict):
    """``POST /api/setup/accept``: the new staff member's keys, made in their browser. The
    email is the link's; the answer is ``UserAnswer``, signed in."""

    token: Token
    display_name: Name
    auth_secret: AuthSecret
    kdf: KdfBody
    public_identity: KeyMaterial
    key_bundle: KeyMaterial
    recovery_bundle: KeyMaterial


class SetupLinkRequest(Strict):
    """``POST /api/admin/setup-links``: a link for a new therapist or admin."""

    role: StaffRoleName
    email: Email
    display_name: Name


class SetupLinkAnswer(Strict):
    """The new link's token, shown once (only its hash is kept)."""

    id: Annotated[int, Field(ge=1)]
    token: Token
    path: str
    expires_at: Time


class SetupLinkItem(Strict):
    """A setup link as the practice's admins see it (never its token)."""

    id: Annotated[int, Field(ge=1)]
    role: StaffRoleName
    email: str
    display_name: str
    created_by: str | None
    created_at: Time
    expires_at: Time
    state: LinkState


class SetupLinksAnswer(Strict):
    """``GET /api/admin/setup-links``: newest first."""

    links: list[SetupLinkItem]


class SetupLinkItemAnswer(Strict):
    """``POST /api/admin/setup-links/<id>/revoke``: the link as it now is."""

    link: SetupLinkItem


# --- members ---------------------------------------------------------------------------------


class MemberItem(Strict):
    """A person of the practice as its admins see them: who, which role, whether they can
    sign in. No key, no conversation."""

    id: UserId
    display_name: str
    email: str
    role: RoleName
    is_active: bool
    date_joined: Time
    last_login: Time | None


class MembersAnswer(Strict):
    """``GET /api/admin/members``: staff first, then clients, each by name."""

    members: list[MemberItem]


class MemberActiveRequest(Strict):
    """``POST /api/admin/members/<id>/active``: deactivate (their sockets close at once)
    or reactivate."""

    active: bool


class MemberAnswer(Strict):
    member: MemberItem


class AdminInvitationItem(Strict):
    """A client invitation of any therapist of the practice (never its token)."""

    id: Annotated[int, Field(ge=1)]
    client_name: str
    therapist: str
    created_at: Time
    expires_at: Time
    state: Literal["pending", "accepted", "expired", "revoked"]


class AdminInvitationsAnswer(Strict):
    """``GET /api/admin/invitations``: the practice's invitations, newest first."""

    invitations: list[AdminInvitationItem]


# --- settings ------------------------------------------------------------------------------


class CrisisLine(Strict):
    """As ``CrisisLineBody``, checked: a label, and a number as people write it."""

    label: Line
    number: PhoneNumber


class PracticeSettings(Strict):
    """``GET``/``POST /api/admin/practice``. Clients see all but the time zone as it is."""

    name: Line
    time_zone: TimeZoneName
    crisis_lines: Annotated[list[CrisisLine], Field(min_length=1, max_length=6)]
    reply_promise: Annotated[
        str, Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")
    ]
    # How many years a discharged conversation is kept before it is erased (docs/records.md,
    # docs/operations.md "Retention and erasure"). Always in an answer; a POST without it
    # keeps the current value.
    retention_years: RetentionYears | None = None


class PracticeSettingsAnswer(Strict):
    practice: PracticeSettings


# --- discharged conversations and their erasure ------------------------------------------------

# Why an admin records a request to erase a conversation before its retention ends: a
# category, never free text (the audit log keeps it).
ErasureReason = Literal["client_request", "court_order", "practice_closing", "made_in_error"]


class AdminRecordItem(Strict):
    """A conversation that is no longer active, as the admin console lists it: its people,
    its dates, and when retention erases it (``erase_after``); never content."""

    conversation: uuid.UUID
    therapist: str
    client: str
    status: Literal["discharged", "erasing", "erased"]
    discharged_at: Time | None
    erase_after: Time | None
    erasure_requested_at: Time | None
    erased_at: Time | None


class AdminRecordsAnswer(Strict):
    """``GET /api/admin/records``: the practice's discharged and erased conversations,
    most recently discharged first."""

    retention_years: RetentionYears
    records: list[AdminRecordItem]


class ErasureRequest(Strict):
    """``POST /api/admin/records/<conversation>/erase``: erase a discharged conversation
    now rather than when its retention ends; the worker's job does it."""

    reason: ErasureReason


class AdminRecordAnswer(Strict):
    record: AdminRecordItem


# --- the messaging agreement -----------------------------------------------------------------


class AgreementSectionInput(Strict):
    heading: Line
    paragraphs: Annotated[list[Paragraph], Field(min_length=1, max_length=20)]


class PublishAgreementRequest(Strict):
    """``POST /api/admin/agreement``: a new version, written on top of ``based_on`` (the
    current version the admin was shown). Another admin's version published meanwhile
    makes this one ``agreement_changed``: nothing is published, and the admin reads the
    new current text first."""

    based_on: AgreementVersion
    sections: Annotated[list[AgreementSectionInput], Field(min_length=1, max_length=30)]


class AgreementVersionItem(Strict):
    version: AgreementVersion
    published_at: Time
    acceptances: Annotated[int, Field(ge=0)]


class ClientAcceptanceItem(Strict):
    """A client and the latest version they accepted (``null``: none yet)."""

    id: UserId
    display_name: str
    is_active: bool
    version: AgreementVersion | None
    accepted_at: Time | None


class AdminAgreementAnswer(Strict):
    """``GET /api/admin/agreement``: the current text, every version newest first, and
    each client's latest acceptance."""

    current: AgreementText
    versions: list[AgreementVersionItem]
    clients: list[ClientAcceptanceItem]
