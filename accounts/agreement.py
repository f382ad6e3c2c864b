"""The messaging agreement of each practice (DESIGN.md section 6): its versions, the
default text every practice starts with, and the clients' acceptances.

Before their first message a client reads and accepts their practice's current agreement:
the limits of confidentiality, that messaging is not for emergencies, when to expect a
reply. The server is the source of truth for both the text and the acceptance, so that
every browser of a client shows the same version and the practice keeps the record.

- A practice's versions are rows of ``AgreementVersion``; the current one is the latest
  published. A published text is never edited: a change is a new version, which every
  client of the practice accepts again before their next message.
- A new practice gets :data:`DEFAULT_VERSION` as its first version when it is created
  (``accounts.signals``); the migration that made the table gave it to every practice
  that existed then.
- Only the current version can be accepted (:func:`accept_agreement`), and until a client
  has accepted it the messaging app takes no message of theirs (``agreement_required``;
  it asks :func:`has_accepted_current`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Subquery
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import AgreementAcceptance, AgreementVersion, Practice, User
from audit.log import record
from protocol.audit import AuditKind
from protocol.errors import AgreementRequiredError
from protocol.http import AgreementSection, AgreementText

# Sent after the commit of a new version. Arguments: practice_id (int). The messaging app
# tells the practice's clients' open sockets to ask again before their next message.
agreement_published = Signal()


def _section(heading: str, *paragraphs: str) -> AgreementSection:
    return AgreementSection(heading=heading, paragraphs=list(paragraphs))


# The default texts by version. A published text is never changed, since clients accepted
# it as it stands (and the migration that made the table gave "2025-1" to the practices of
# the time): a new default is a new entry, and DEFAULT_VERSION names it.
DEFAULT_TEXTS: Mapping[str, tuple[AgreementSection, ...]] = {
    "2025-1": (
        _section(
            "What messaging is for",
            "Messaging is for short matters between sessions: scheduling, a question, an "
            "update on something you agreed to try. It does not replace your sessions.",
        ),
        _section(
            "Not for emergencies",
            "Messages are not monitored around the clock. If you are in crisis, call or text "
            "988 (Suicide & Crisis Lifeline). In an emergency, call 911 or go to the nearest "
            "emergency room. Do not wait for a reply here.",
        ),
        _section(
            "When to expect a reply",
            "Your therapist usually replies within two business days, during office hours. "
            "Messages sent in the evening, at weekends or on holidays are read on the next "
            "business day.",
        ),
        _section(
            "Confidentiality and its limits",
            "Messages are end-to-end encrypted: only you and your therapist can read them, not "
            "the practice staff or the server that carries them.",
            "As in your sessions, your therapist must act on what you share, and may have to "
            "tell others, when there is an imminent risk of serious harm to you or to someone "
            "else, and when the law requires it (for example suspected abuse of a child, an "
            "elder or a dependent adult, or a court order). In California this includes the "
            "duty to protect (Civil Code 43.92) and the Confidentiality of Medical Information "
            "Act (Civil Code 56).",
            "Your therapist may keep messages as part of your clinical record.",
        ),
        _section(
            "Your device",
            "Anyone who can use your unlocked device may read your messages. Sign out on a "
            "shared device. The Quick exit button leaves this page at once.",
        ),
    ),
}
DEFAULT_VERSION = "2025-1"


def sections_json(sections: Sequence[AgreementSection]) -> list[dict[str, Any]]:
    """Sections as ``AgreementVersion.sections`` stores them."""
    return [section.model_dump() for section in sections]


def give_default_agreement(practice: Practice) -> AgreementVersion:
    """A new practice's first version: the default text (once; a second call finds it)."""
    found, _ = AgreementVersion.objects.get_or_create(
        practice=practice,
        version=DEFAULT_VERSION,
        defaults={"sections": sections_json(DEFAULT_TEXTS[DEFAULT_VERSION])},
    )
    return found


def publish_agreement(
    practice: Practice,
    version: str,
    sections: Sequence[AgreementSection],
    published_at: datetime | None = None,
) -> AgreementVersion:
    """Publishes a new version of the practice's agreement (at ``published_at``, now by
    default), which becomes the current one unless a later one exists: every client of the
    practice accepts it before their next message. The text is checked
    against the protocol's shape first (``pydantic.ValidationError`` if it does not fit);
    a version the practice already has is an ``IntegrityError``."""
    text = AgreementText(
        version=version, published_at=published_at or timezone.now(), sections=list(sections)
    )
    with transaction.atomic():
        published = AgreementVersion.objects.create(
            practice=practice,
            version=text.version,
            sections=sections_json(text.sections),
            published_at=text.published_at,
        )
        practice_id = practice.pk
        transaction.on_commit(
            lambda: agreement_published.send(sender=publish_agreement, practice_id=practice_id)
        )
    return published


def current_agreement(practice_id: int) -> AgreementVersion | None:
    """The practice's latest published version (None only for a practice made without
    the ORM's signals, such as by ``bulk_create``: nothing can then be accepted)."""
    return (
        AgreementVersion.objects.filter(practice_id=practice_id)
        .order_by("-published_at", "-pk")
        .first()
    )


def agreement_text(version: AgreementVersion) -> AgreementText:
    return AgreementText(
        version=version.version,
        published_at=version.published_at,
        sections=[AgreementSection.model_validate(section) for section in version.sections],
    )


def acceptance_of(user: User, version: str) -> AgreementAcceptance | None:
    return AgreementAcceptance.objects.filter(user=user, version=version).first()


def accept_agreement(user: User, version: str) -> AgreementAcceptance:
    """Records that the client accepted ``version``, which must be their practice's current
    one (``AgreementRequiredError`` otherwise: an old version, or one published nowhere).
    Accepting a version again keeps the first record and returns it."""
    current = current_agreement(user.practice_id)
    if current is None or current.version != version:
        raise AgreementRequiredError(
            f"Version {version} is not the current messaging agreement of your practice: "
            "GET /api/agreement, read it and accept its version."
        )
    with transaction.atomic():
        acceptance, created = AgreementAcceptance.objects.get_or_create(user=user, version=version)
        if created:
            record(
                AuditKind.AGREEMENT_ACCEPTED,
                actor=user,
                subject=f"user:{user.pk}",
                details={"version": version},
            )
    return acceptance


def has_accepted_current(user_id: int, practice_id: int) -> bool:
    """Whether the user accepted their practice's current version (one query)."""
    current = (
        AgreementVersion.objects.filter(practice_id=practice_id)
        .order_by("-published_at", "-pk")
        .values("version")[:1]
    )
    return AgreementAcceptance.objects.filter(user_id=user_id, version=Subquery(current)).exists()


__all__ = [
    "DEFAULT_TEXTS",
    "DEFAULT_VERSION",
    "accept_agreement",
    "acceptance_of",
    "agreement_published",
    "agreement_text",
    "current_agreement",
    "give_default_agreement",
    "has_accepted_current",
    "publish_agreement",
    "sections_json",
]
