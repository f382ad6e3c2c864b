"""The messaging agreement at the socket: a client's ``send`` and ``rekey`` are taken only
once they have accepted their practice's current agreement (DESIGN.md section 6;
``accounts.agreement``); until then they are answered ``agreement_required`` before
anything is queued or stored. Therapists and admins are never asked.

Without a query per frame: a client's socket reads at its first send whether its client
accepted the current version (:func:`gate_for`; nothing at the connect), and reads it
again while the answer is no (one query per refused frame, which the socket's rate limit
bounds), so the first send after accepting is taken on the same socket, whichever process
recorded the acceptance. A yes is
trusted for ``CONFIDE_SESSION_RECHECK_SECONDS`` (30 s by default) and then read again at
the next send. When a practice publishes a new version, its clients' sockets are told at
once after the commit (``agreement.changed``, through ``services.events``) and ask the
database again at their next send; should that event not reach a socket (the channel
layer is at most once, and a version published by another program on the embedded
default's process-local layer reaches no socket at all), the socket learns of it within
that interval all the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from accounts.agreement import has_accepted_current
from accounts.models import Role, User
from messaging.services import events
from messaging.services.common import in_db_thread
from protocol.errors import AgreementRequiredError

_has_accepted_current = in_db_thread(has_accepted_current)


@dataclass
class AgreementGate:
    """Whether one client socket's client accepted their practice's current agreement."""

    user_id: int
    practice_id: int
    accepted: bool
    # When ``accepted`` was read (time.monotonic()).
    read_at: float = field(default_factory=time.monotonic)

    async def require(self) -> None:
        """Returns once the client has accepted the current version; otherwise raises
        ``AgreementRequiredError`` (or ``UnavailableError`` without a database: resend).
        Asks the database while the answer is no, and when a yes is older than the
        re-check interval."""
        if (
            self.accepted
            and time.monotonic() - self.read_at < settings.CONFIDE_SESSION_RECHECK_SECONDS
        ):
            return
        self.accepted = await _has_accepted_current(self.user_id, self.practice_id)
        self.read_at = time.monotonic()
        if not self.accepted:
            raise AgreementRequiredError(
                "Accept your practice's current messaging agreement before sending: "
                "GET /api/agreement, then POST /api/agreement with its version."
            )

    def forget(self) -> None:
        """A new version was published: the next send asks the database again."""
        self.accepted = False


def gate_for(user: User) -> AgreementGate | None:
    """The gate of a new socket's user: None for therapists and admins, who are never
    asked; for a client, a gate that asks the database at the first ``send`` or ``rekey``.
    Nothing is read at the connect itself, which a reconnect storm makes by the thousand,
    and the read comes after the socket joined its group: a version published from then
    on reaches it as an event."""
    if user.role != Role.CLIENT:
        return None
    return AgreementGate(user.pk, user.practice_id, accepted=False)


def clients_of(practice_id: int) -> list[int]:
    return list(
        User.objects.filter(practice_id=practice_id, role=Role.CLIENT, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def tell_clients_of_a_new_agreement(sender: object, *, practice_id: int, **kwargs: Any) -> None:
    """Receives ``accounts.agreement.agreement_published`` (after its commit): the open
    sockets of the practice's clients ask again before their next send."""
    events.agreement_changed_from_sync(clients_of(practice_id))


__all__ = ["AgreementGate", "gate_for", "tell_clients_of_a_new_agreement"]
