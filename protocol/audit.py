"""The audit log's kinds of event and the admin console's view of it
(``GET /api/admin/audit``, ``GET /api/admin/audit.csv``; docs/records.md).

An event says who, when, from where and what kind; its details are a few plain values
(counts, ids, categories), never content and never a key.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from protocol.common import Strict, Time

__all__ = ["AUDIT_PAGE", "AuditEventItem", "AuditKind", "AuditPage", "AuditQuery", "DetailValue"]

AUDIT_PAGE = 100
# The dates a filter may name (a later one would overflow the database's time type).
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(9000, 12, 31)


class AuditKind(StrEnum):
    """Every kind of event the audit log holds."""

    # signing in and out
    SIGNIN = "signin"
    SIGNIN_FAILED = "signin_failed"
    SECOND_FACTOR_FAILED = "second_factor_failed"
    SIGNOUT = "signout"
    # an account's secrets and keys
    SECOND_FACTOR_ADDED = "second_factor_added"
    SECOND_FACTOR_REMOVED = "second_factor_removed"
    PASSWORD_RECOVERED = "password_recovered"  # noqa: S105 (a kind, not a password)
    ASSISTED_RECOVERY_REQUESTED = "assisted_recovery_requested"
    ASSISTED_RECOVERY_CONFIRMED = "assisted_recovery_confirmed"
    ASSISTED_RECOVERY_DECLINED = "assisted_recovery_declined"
    IDENTITY_CHANGED = "identity_changed"
    EPOCH_STARTED = "epoch_started"
    # people
    INVITATION_CREATED = "invitation_created"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_REVOKED = "invitation_revoked"
    INVITATION_RENEWED = "invitation_renewed"
    SETUP_LINK_CREATED = "setup_link_created"
    SETUP_LINK_REVOKED = "setup_link_revoked"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_REACTIVATED = "account_reactivated"
    # the practice
    PRACTICE_CREATED = "practice_created"
    PRACTICE_SETTINGS_CHANGED = "practice_settings_changed"
    AGREEMENT_PUBLISHED = "agreement_published"
    AGREEMENT_ACCEPTED = "agreement_accepted"
    # records
    EXPORT_MADE = "export_made"
    DISCLOSURE_RECORDED = "disclosure_recorded"
    CONVERSATION_DISCHARGED = "conversation_discharged"
    ERASURE_REQUESTED = "erasure_requested"
    ERASURE_STARTED = "erasure_started"
    CONVERSATION_ERASED = "conversation_erased"
    # the log itself
    AUDIT_DOWNLOADED = "audit_downloaded"
    AUDIT_PRUNED = "audit_pruned"


DetailValue = str | int | bool | None


class AuditEventItem(Strict):
    seq: Annotated[int, Field(ge=1)]
    at: Time
    kind: AuditKind
    actor_id: int | None
    actor: str
    subject: str
    address: str
    user_agent: str
    details: dict[str, DetailValue]


class AuditPage(Strict):
    """``GET /api/admin/audit``: the newest events first, ``before`` (a ``seq``) pages
    back; ``next_before`` is null on the last page."""

    events: list[AuditEventItem]
    next_before: int | None


class AuditQuery(BaseModel):
    """The console's filters, from the query string (so numbers and dates come as text):
    ``person`` (an account id), ``kind``, ``since`` and ``until`` (dates, inclusive, in
    the practice's time zone), ``before`` (a ``seq``: the page before it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    kind: AuditKind | None = None
    since: Annotated[dt.date, Field(ge=EARLIEST, le=LATEST)] | None = None
    until: Annotated[dt.date, Field(ge=EARLIEST, le=LATEST)] | None = None
    before: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
