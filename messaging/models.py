"""What the server keeps: ciphertext and the minimum of metadata.

No field here holds a message's plaintext or a secret. Message bodies, key
envelopes and key bundles are opaque bytes in the formats of crypto/SPEC.md; the
server checks their shape and signatures, never their content. The only words a
person types that are kept as text are names: a client's name on an invitation,
and a therapist's own label for a client (docs/threat-model.md).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from protocol.http import LABEL_FORBIDDEN, LABEL_MAX_LENGTH


class Conversation(models.Model):
    """A client and their therapist. The id is bound into every ciphertext."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISCHARGED = "discharged", "Discharged (read-only)"
        # Cryptographic erasure under way (messaging.services.erasure): it resumes until done.
        ERASING = "erasing", "Being erased"
        # Every envelope, message and sealed record destroyed; this row is the tombstone.
        ERASED = "erased", "Erased"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(
        "accounts.Practice", on_delete=models.PROTECT, related_name="conversations"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    # The newest epoch with envelopes for every member; messages must use it.
    current_epoch = models.PositiveIntegerField(default=0)
    epoch_started_at = models.DateTimeField(default=timezone.now)
    # The sequence number given to the latest message (0: none yet).
    last_seq = models.PositiveBigIntegerField(default=0)
    # ``last_seq`` when the current epoch began: the epoch's messages are those numbered
    # after it (the writer takes no other epoch), so their count needs no scan.
    epoch_start_seq = models.PositiveBigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # Discharge (docs/records.md): read-only from then on, kept for the practice's retention.
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A recorded request to erase it before its retention ends (who, when), and when the
    # erasure finished.
    erasure_requested_at = models.DateTimeField(null=True, blank=True)
    erasure_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Conversation {self.id}"


class Membership(models.Model):
    """One member of a conversation, and what that member alone keeps about it.

    ``label`` and ``archived_at`` are the member's own filing of their inbox (a therapist's
    name for the client, and whether the conversation is put away): plaintext metadata the
    server keeps like any name, never shown to the other member.
    """

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    # Read state: the highest sequence number this member has read.
    last_read_seq = models.PositiveBigIntegerField(default=0)
    # The member's own name for the conversation ("": the other member's display name).
    label = models.CharField(
        max_length=LABEL_MAX_LENGTH,
        blank=True,
        default="",
        validators=[
            RegexValidator(
                f"[{LABEL_FORBIDDEN}]",
                inverse_match=True,
                message="A label may not contain control characters.",
            ),
            RegexValidator(
                r"^\s|\s$",
                inverse_match=True,
                message="A label may not begin or end with a space.",
            ),
        ],
    )
    # When the member archived it; it is shown archived only until the other member writes
    # after that time (messaging.services.inbox).
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="one_membership"),
        ]


class KeyEnvelope(models.Model):
    """An epoch's conversation key wrapped to one member and signed by its wrapper."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="envelopes"
    )
    epoch = models.PositiveIntegerField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    wrapper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    envelope = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "epoch", "recipient"], name="one_envelope_per_member"
            ),
        ]


class Notice(models.Model):
    """The last email telling ``user`` that a message waits in ``conversation``
    (messaging.services.notifications): none is sent again for the conversation until
    they read past ``seq``. Holds no content, only that an email went and when."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    sent_at = models.DateTimeField()
    # False from the claim until the SMTP server took the email.
    confirmed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="one_notice_per_member")
        ]
        indexes = [models.Index(fields=["user", "-sent_at"], name="notice_user_sent")]


class PushSubscription(models.Model):
    """One browser's Web Push subscription (messaging.services.push): where its push
    service takes a notice for it, and the keys the notice is encrypted to (RFC 8291).

    Tied to the session that made it: when the session ends (signed out, expired and
    cleared, or ended with the account's access), its subscriptions go with it, so a
    browser nobody is signed in to is told nothing."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="+")
    # The push service's URL for this browser: a capability, unique to it.
    endpoint = models.CharField(max_length=1024, unique=True)
    # The browser's P-256 key (65 bytes) and auth secret (16 bytes), base64url.
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="push_user_created")]

    def __repr__(self) -> str:
        # The endpoint is a capability: anyone holding it can wake the browser.
        return f"<PushSubscription {self.pk} of user {self.user_id}>"

    __str__ = __repr__


class Message(models.Model):
    """One sealed message. ``seq`` orders a conversation; ``client_message_id`` deduplicates."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: both unique constraints below begin with it, and serve every
    # lookup by conversation (one index fewer to write per message).
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    seq = models.PositiveBigIntegerField()
    client_message_id = models.UUIDField()
    epoch = models.PositiveIntegerField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ciphertext = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "seq"], name="one_seq_per_conversation"
            ),
            models.UniqueConstraint(
                fields=["conversation", "client_message_id"], name="one_client_message_id"
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="seq_from_one"),
        ]


class Disclosure(models.Model):
    """A disclosure outside the conversation, as the therapist recorded it for the
    accounting of disclosures (docs/records.md): the date and the legal basis are plain
    metadata; the recipient, what was disclosed and why are ``sealed`` under the
    conversation's epoch key (crypto/SPEC.md, "Disclosure records"), so the client can
    read them and the server cannot. ``id`` is bound into the seal."""

    class LegalBasis(models.TextChoices):
        DUTY_TO_PROTECT = "duty_to_protect", "Duty to protect or warn"
        MANDATED_REPORT = "mandated_report", "Mandated report"
        COURT_ORDER = "court_order", "Court order or subpoena"
        CLIENT_AUTHORISED = "client_authorised", "Authorised by the client"
        OTHER_LAW = "other_law", "Another disclosure required or allowed by law"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="disclosures"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    disclosed_on = models.DateField()
    legal_basis = models.CharField(max_length=32, choices=LegalBasis.choices)
    epoch = models.PositiveIntegerField()
    sealed = models.BinaryField()

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "recorded_at"], name="disclosure_conversation")
        ]


class Invitation(models.Model):
    """A one-time, expiring link a therapist gives a client.

    Only a hash of the token is stored, so a database reader cannot use a
    pending invitation. The conversation id is fixed at creation, because the
    client binds it into the first epoch's key envelopes before it exists.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    client_name = models.CharField(max_length=150)
    conversation_id = models.UUIDField(default=uuid.uuid4, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The therapist withdrew it before it was used: it then opens nothing.
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="expires_later"
            ),
        ]


class Generation(models.Model):
    """A database generation: a new one begins when the database is restored from a backup
    (messaging/services/generations.py). Its token is announced to every socket."""

    token = models.CharField(max_length=32, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    # What the database was when it began (its OID, cluster and timeline on PostgreSQL).
    database_identity = models.CharField(max_length=200)
    # Whether it began on a restored (or moved) database: then its starts below say where
    # each conversation was restored to.
    restored = models.BooleanField(default=False)
    reason = models.CharField(max_length=500)


class GenerationStart(models.Model):
    """A conversation's last sequence number when a generation began on a restored database."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="starts")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="generation_starts"
    )
    last_seq = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "conversation"], name="one_start_per_generation"
            )
        ]


class Attachment(models.Model):
    """An encrypted file a member uploads to a conversation (messaging.services.attachments):
    one opaque stream, stored as parts of ``part_size`` bytes through the storage
    ``STORAGES["attachments"]`` (messaging/parts.py). The server knows its length, who
    uploaded it where and when, never its name, type or content; the key that opens it and
    the file's name travel sealed in the message that presents it.

    ``size`` is the stream's length, declared before the first part and counted against the
    practice's quota from then on; ``digest`` (BLAKE2b-256 of the stream, labelled as
    crypto/SPEC.md says) is set when the upload is completed, and only then may anyone but
    its uploader read it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="attachments"
    )
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    size = models.PositiveBigIntegerField()
    part_size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    digest = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gte=1) & Q(part_size__gte=1), name="attachment_sizes"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True, digest__isnull=True)
                | Q(completed_at__isnull=False, digest__isnull=False),
                name="attachment_digest_when_complete",
            ),
        ]
        indexes = [
            # What the collection of abandoned uploads looks for.
            models.Index(
                fields=["created_at"],
                condition=Q(completed_at__isnull=True),
                name="attachment_incomplete",
            ),
        ]

    @property
    def parts(self) -> int:
        """How many parts the stream is cut in."""
        return -(-self.size // self.part_size)

    def part_length(self, number: int) -> int:
        """The exact length of part ``number``: ``part_size``, or the rest for the last."""
        if number == self.parts - 1:
            return self.size - self.part_size * (self.parts - 1)
        return self.part_size


class AttachmentPart(models.Model):
    """One stored part of an attachment's stream. ``digest`` (BLAKE2b-256 of its bytes) tells
    the same part sent again (a resumed upload: accepted, nothing written) from another
    (refused, the stored one kept), and finds a part the storage lost or changed."""

    id = models.BigAutoField(primary_key=True)
    attachment = models.ForeignKey(
        Attachment, on_delete=models.CASCADE, related_name="stored_parts"
    )
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    digest = models.BinaryField()
    stored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attachment", "number"], name="one_part_per_number"),
        ]
