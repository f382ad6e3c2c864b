"""The audit log's two tables: the events, and the head of their chain.

Each event holds the hash of the one before (``previous``) and its own (``digest``, over
every other field: ``audit.log.digest_of``). The head is one row: the sequence number and
hash of the newest event, and where retention last cut the chain. Writing an event locks
the head row first, so that writers in several processes form one line.

On PostgreSQL a trigger refuses UPDATE and DELETE of an event (migration 0001); only the
retention job deletes, the oldest rows only (up to the permit's ``through``), in a
transaction holding a row of :class:`PrunePermit` that no other transaction sees. The
portal's own database role can write that table, so the trigger stops mistakes and the
portal's code, not someone with the role's password: the chain and its anchors find what
they do (docs/records.md).
"""

from __future__ import annotations

from django.db import models

GENESIS = "0" * 64


class Event(models.Model):
    """One thing that happened. People are named by id and by their email as it was then;
    nothing here points at another table, so nothing elsewhere can change a row."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    kind = models.CharField(max_length=48)
    # Who did it (None: the system, the operator's command, or someone not signed in).
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=254, blank=True)
    practice_id = models.BigIntegerField(null=True, blank=True)
    # What it was done to: "user:12", "conversation:<uuid>", "invitation:7", ...
    subject = models.CharField(max_length=80, blank=True)
    # From where: the client's address as the server saw it, and its user agent.
    address = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # A few plain values (counts, ids, categories); never content, never a key.
    details = models.JSONField(default=dict)
    previous = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_event"
        indexes = [
            models.Index(fields=["practice_id", "at"], name="audit_practice_at"),
            models.Index(fields=["actor_id", "at"], name="audit_actor_at"),
            models.Index(fields=["kind", "at"], name="audit_kind_at"),
        ]

    def __str__(self) -> str:
        return f"Audit event {self.seq} ({self.kind})"


class Head(models.Model):
    """The newest event's sequence number and hash (one row, id 1), and the last event
    retention removed (0 and the genesis hash: none)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    digest = models.CharField(max_length=64, default=GENESIS)
    pruned_seq = models.BigIntegerField(default=0)
    pruned_digest = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        db_table = "audit_head"


class PrunePermit(models.Model):
    """Present only inside the retention job's transaction: the trigger lets a DELETE of
    events through while a row of it is visible (only to that transaction)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # The newest event the cut may remove: the trigger refuses a DELETE of any later one.
    through = models.BigIntegerField(default=0)

    class Meta:
        db_table = "audit_prune_permit"
