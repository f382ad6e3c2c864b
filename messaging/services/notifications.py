"""Notifications without content (docs/operations.md, "Email notifications" and "Web Push").

When a message reaches someone who then has no live socket for
``CONFIDE_NOTIFY_AFTER_SECONDS`` (10 minutes), they are told once that a secure message
waits: a Web Push notice to each browser they subscribed (``messaging.services.push``),
and an email with the portal's address unless they turned emails off. Neither says more:
no content, no sender, no practice, no client name, in the subject, the body, the headers
or the push payload. At most one per conversation until they read
it (:class:`~messaging.models.Notice`), at most one per ``CONFIDE_NOTIFY_EVERY_SECONDS``
(an hour) per person, none to a deactivated account or to someone who turned them off.

The work runs as jobs of Django's tasks framework on its database backend
(``django_tasks_db``; docs/architecture.md says why), never on the path of a message:

* :func:`schedule` runs in the writer's transaction (``messaging.services.writer``), so a
  job exists exactly when its messages do: a restart loses none. It adds one job per batch,
  for the recipients not already waiting for one in this process.
* :func:`notify` runs in a worker (``confide serve`` runs one; see ``portal.worker``); the
  database hands each job to one worker (``SELECT ... FOR UPDATE SKIP LOCKED``), and the
  account's row is locked while its notice is decided, so two processes never send the same
  email. A refusing or silent SMTP server is retried later with a growing pause
  (``CONFIDE_NOTIFY_TRIES`` times); a message is never held up by any of it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django_tasks import task

from accounts.models import User
from messaging.limits import has_live_socket
from messaging.models import Membership, Message, Notice
from messaging.services import push


class Stored(Protocol):
    """What scheduling needs of a stored message (``writer.StoredMessage``)."""

    @property
    def conversation_id(self) -> uuid.UUID: ...
    @property
    def sender_id(self) -> int: ...
    @property
    def member_ids(self) -> tuple[int, ...]: ...
    @property
    def duplicate(self) -> bool: ...


__all__ = ["SUBJECT", "deliver_again", "email_text", "notify", "schedule"]

log = logging.getLogger(__name__)

SUBJECT = "A secure message is waiting for you"
# One item of a job: the recipient, the conversation, and the try (0 the first time).
Item = list[int | str]
# One item of a redelivery: "push" and a subscription's id, or "email" and 0; the
# recipient, the conversation, and the try.
Redelivery = list[int | str]

# This process's recipients with a job already waiting, until it runs: a burst of messages
# makes one job. (Another process may add its own; the job's checks keep it to one email.)
_waiting: dict[tuple[int, uuid.UUID], float] = {}
_waiting_lock = threading.Lock()


def _after() -> timedelta:
    return timedelta(seconds=settings.CONFIDE_NOTIFY_AFTER_SECONDS)


def schedule(stored: Sequence[Stored]) -> None:
    """In the writer's transaction: one job, ``CONFIDE_NOTIFY_AFTER_SECONDS`` from now, for
    the recipients of the new messages that have none waiting in this process."""
    now = time.monotonic()
    after = _after()
    items: list[Item] = []
    with _waiting_lock:
        if len(_waiting) > 10_000:
            for key in [key for key, until in _waiting.items() if until <= now]:
                del _waiting[key]
        for message in stored:
            if message.duplicate:
                continue
            for member in message.member_ids:
                key = (member, message.conversation_id)
                if member == message.sender_id or _waiting.get(key, 0.0) > now:
                    continue
                items.append([member, str(message.conversation_id), 0])
    if not items:
        return
    try:
        # In a savepoint: whatever goes wrong here must not cost the batch its messages.
        with transaction.atomic():
            notify.using(run_after=timezone.now() + after).enqueue(items)
    except Exception as exc:
        log.error("could not schedule email notifications: %s", type(exc).__name__)
        return
    # Remembered once the messages (and the job) are committed: a batch rolled back and
    # tried again schedules its job again.
    transaction.on_commit(lambda: _remember(items, now + after.total_seconds()))


def _remember(items: list[Item], until: float) -> None:
    with _waiting_lock:
        for item in items:
            _waiting[(int(item[0]), uuid.UUID(str(item[1])))] = until


def email_text() -> str:
    """The body: that a message waits, and where; nothing else."""
    url = settings.CONFIDE_PUBLIC_URL.rstrip("/") or _this_machine()
    return (
        "You have a new secure message.\n\n"
        f"Sign in to read it: {url}/\n\n"
        "For your privacy this email does not say who wrote or what they wrote.\n"
        "You can turn these emails off in the portal: Settings, Email notifications.\n"
    )


def _this_machine() -> str:
    """Without ``CONFIDE_PUBLIC_URL``: the address ``confide serve`` listens on here."""
    host = os.environ.get("CONFIDE_HOST", "") or "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_unspecified:  # every interface: this machine's
            host = "127.0.0.1"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{os.environ.get('CONFIDE_PORT', '8000')}"


@task()
def notify(items: list[Item]) -> None:
    """Sends the emails of a job's items that are still due; items to look at again later
    (too early, the hour's email already sent, a failure) go into a new job. One item's
    failure, whatever it is, never costs the others theirs, and is tried again."""
    _prune()
    later: dict[datetime, list[Item]] = {}
    redeliver: list[Redelivery] = []
    try:
        for user_id, conversation, tries in items:
            try:
                when = _notify_one(
                    int(user_id), uuid.UUID(str(conversation)), int(tries), redeliver
                )
            except Exception as exc:  # the database, Redis, a malformed address, ...
                when = _retry(int(user_id), int(tries), exc)
            if when is not None:
                again, next_tries = when
                later.setdefault(again, []).append([user_id, conversation, next_tries])
    finally:
        for again, due in later.items():
            notify.using(run_after=again).enqueue(due)
        _enqueue_redeliveries(redeliver)


def _retry(user_id: int, tries: int, exc: BaseException) -> tuple[datetime, int] | None:
    """When to try a failed item again (a doubling pause), or None after the last try. Only
    the kind of failure is logged: an SMTP error can quote the address."""
    problem = type(exc).__name__
    if tries + 1 >= settings.CONFIDE_NOTIFY_TRIES:
        log.warning("gave up a notification for user %s: %s", user_id, problem)
        return None
    pause = timedelta(seconds=min(3600, settings.CONFIDE_NOTIFY_RETRY_SECONDS * 2**tries))
    log.info("a notification failed (%s); retrying in %s", problem, pause)
    return timezone.now() + pause, tries + 1


# A claimed notice not confirmed within this long was a send that died with its process:
# it no longer counts (the job, put back by ``portal.worker``, tries again).
_CLAIM = timedelta(minutes=5)
# Finished jobs are deleted after this long: their rows say who was sent an email when.
_KEEP_JOBS = timedelta(hours=1)


def _prune() -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.finished().filter(
        task_path__in=[notify.module_path, deliver_again.module_path],
        finished_at__lt=timezone.now() - _KEEP_JOBS,
    ).delete()


def _first_unread(user_id: int, conversation: uuid.UUID) -> tuple[int, int, datetime] | None:
    """The member's read position, and the seq and time of the first message of the
    conversation they have not read (of someone else's); None when there is none."""
    read = (
        Membership.objects.filter(user_id=user_id, conversation_id=conversation)
        .values_list("last_read_seq", flat=True)
        .first()
    )
    if read is None:
        return None
    first = (
        Message.objects.filter(conversation_id=conversation, seq__gt=read)
        .exclude(sender_id=user_id)
        .order_by("seq")
        .values_list("seq", "created_at")
        .first()
    )
    return None if first is None else (read, first[0], first[1])


def _notify_one(
    user_id: int, conversation: uuid.UUID, tries: int, redeliver: list[Redelivery]
) -> tuple[datetime, int] | None:
    """One recipient's notice for one conversation: sent, not needed, or (when and with
    which try) to look at again. A notice goes to each of their browsers' push
    subscriptions, and by email unless they turned emails off; once any of these got
    through, the notice counts, and those that failed for a while (429, 5xx, no answer)
    go into ``redeliver`` to be tried again on their own."""
    now = timezone.now()
    unread = _first_unread(user_id, conversation)
    if unread is None:
        return None  # read, or no longer a member
    if now < unread[2] + _after():
        return unread[2] + _after(), tries
    # Asked before any lock is taken: it may wait on Redis.
    if has_live_socket(user_id):
        return None  # in the portal now: the page shows it
    with transaction.atomic():
        # The account's row serialises every process deciding on its notices (a lock that
        # leaves foreign keys to it, such as a new message's sender, free).
        user = (
            User.objects.select_for_update(no_key=True)
            .filter(pk=user_id, is_active=True)
            .only("pk", "email", "email_notifications")
            .first()
        )
        if user is None:
            return None
        subscriptions = push.live_subscriptions(user_id)
        if not user.email_notifications and not subscriptions:
            return None
        unread = _first_unread(user_id, conversation)
        if unread is None:
            return None
        read, seq, _ = unread
        counting = Notice.objects.filter(user_id=user_id).filter(
            Q(confirmed=True) | Q(sent_at__gt=now - _CLAIM)
        )
        if counting.filter(conversation_id=conversation, seq__gt=read).exists():
            return None  # told already, and not read since
        every = timedelta(seconds=settings.CONFIDE_NOTIFY_EVERY_SECONDS)
        last = counting.aggregate(last=Max("sent_at"))["last"]
        if last is not None and now < last + every:
            return last + every, tries
        previous = Notice.objects.filter(user_id=user_id, conversation_id=conversation).first()
        # Claimed before the send, confirmed after it: a second job sees the claim.
        claim, _ = Notice.objects.update_or_create(
            user_id=user_id,
            conversation_id=conversation,
            defaults={"seq": seq, "sent_at": now, "confirmed": False},
        )
        email = user.email if user.email_notifications else None
    delivered = False
    failed: list[Redelivery] = []
    for subscription in subscriptions:
        try:
            outcome = push.send(subscription)
        except Exception as exc:  # the database, while dropping a gone subscription
            log.info("a push notification failed (%s)", type(exc).__name__)
            outcome = push.Outcome.RETRY
        delivered = delivered or outcome is push.Outcome.SENT
        if outcome is push.Outcome.RETRY:
            failed.append(["push", subscription.pk, user_id, str(conversation), tries + 1])
    problem: BaseException | None = None
    if email is not None:
        try:
            _email(email).send()
            delivered = True
            log.info("email notification sent to user %s", user_id)
        except Exception as exc:
            problem = exc
            failed.append(["email", 0, user_id, str(conversation), tries + 1])
    if not delivered:
        # Nothing got through: the claim is taken back, and the whole notice tried again
        # after a pause (or given up, when no way is left to try).
        with transaction.atomic():
            if previous is None:
                Notice.objects.filter(pk=claim.pk).delete()
            else:
                Notice.objects.filter(pk=claim.pk).update(
                    seq=previous.seq, sent_at=previous.sent_at, confirmed=previous.confirmed
                )
        if not failed:
            return None
        return _retry(user_id, tries, problem or _PushUnavailable())
    Notice.objects.filter(pk=claim.pk).update(confirmed=True)
    if tries + 1 < settings.CONFIDE_NOTIFY_TRIES:
        redeliver.extend(failed)
    return None


class _PushUnavailable(Exception):
    """Every push service of the person answered 429 or 5xx, or not at all."""


@task()
def deliver_again(items: list[Redelivery]) -> None:
    """Tries again the pushes and emails of a notice that counted already (another way got
    through) but failed for a while themselves; each only while its message is still
    unread, the person still active and offline, and the way still theirs."""
    redeliver: list[Redelivery] = []
    try:
        for item in items:
            try:
                _deliver_one(item, redeliver)
            except Exception as exc:
                log.info("a notification failed again (%s)", type(exc).__name__)
                kind, target, user_id, conversation, tries = item
                if int(tries) + 1 < settings.CONFIDE_NOTIFY_TRIES:
                    redeliver.append([kind, target, user_id, conversation, int(tries) + 1])
    finally:
        _enqueue_redeliveries(redeliver)


def _deliver_one(item: Redelivery, redeliver: list[Redelivery]) -> None:
    kind, target, user_id, conversation, tries = item
    user_id, tries = int(user_id), int(tries)
    if _first_unread(user_id, uuid.UUID(str(conversation))) is None or has_live_socket(user_id):
        return
    user = User.objects.filter(pk=user_id, is_active=True).only("email", "email_notifications")
    found = user.first()
    if found is None:
        return
    if kind == "push":
        subscription = next(
            (s for s in push.live_subscriptions(user_id) if s.pk == int(target)), None
        )
        if subscription is None or push.send(subscription) is not push.Outcome.RETRY:
            return
    elif found.email_notifications:
        try:
            _email(found.email).send()
            return
        except Exception as exc:
            log.info("an email notification failed again (%s)", type(exc).__name__)
    else:
        return
    if tries + 1 < settings.CONFIDE_NOTIFY_TRIES:
        redeliver.append([kind, target, user_id, conversation, tries + 1])
    else:
        log.warning("gave up a %s notification for user %s", kind, user_id)


def _enqueue_redeliveries(items: list[Redelivery]) -> None:
    """Each try after a doubling pause, as for a notice as a whole."""
    by_time: dict[datetime, list[Redelivery]] = {}
    for item in items:
        pause = min(3600, settings.CONFIDE_NOTIFY_RETRY_SECONDS * 2 ** (int(item[4]) - 1))
        by_time.setdefault(timezone.now() + timedelta(seconds=pause), []).append(item)
    for when, due in by_time.items():
        deliver_again.using(run_after=when).enqueue(due)


def _email(to: str) -> EmailMessage:
    """The email, with a Message-ID of the sender's domain (Django's default names this
    machine, whose name may be the practice's)."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return EmailMessage(
        SUBJECT, email_text(), to=[to], headers={"Message-ID": make_msgid(domain=domain)}
    )
