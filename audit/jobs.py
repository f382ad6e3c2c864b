"""The audit log's own upkeep, run by the periodic job (``portal.periodic``): its head
written to the log output (an anchor for a copy outside the database), and the events past
retention removed from the start of the chain."""

from __future__ import annotations

from django.conf import settings

from audit.log import log_head, prune


def anchor() -> None:
    """Writes the ``audit_head`` line (``CONFIDE_AUDIT_ANCHOR_SECONDS``, hourly)."""
    log_head()


def keep_for_retention() -> int:
    """Removes what is older than ``CONFIDE_AUDIT_RETENTION_YEARS`` (six by default)."""
    return prune(settings.CONFIDE_AUDIT_RETENTION_YEARS)
