"""Ends accounts' access: ``confide deactivate_user EMAIL [EMAIL ...]``.

The accounts can no longer sign in, and their open websockets are closed. Nothing is
deleted: their conversations and ciphertext stay for the practice's records.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User, normalise_email
from audit.log import record
from protocol.audit import AuditKind


class Command(BaseCommand):
    help = "Deactivates accounts by email and closes their websockets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("emails", nargs="+", metavar="EMAIL")

    def handle(self, *args: Any, **options: Any) -> None:
        emails = sorted({normalise_email(email) for email in options["emails"]})
        with transaction.atomic():
            users = User.objects.filter(email__in=emails)
            unknown = sorted(set(emails) - set(users.values_list("email", flat=True)))
            if unknown:
                raise CommandError(f"No account with the email: {', '.join(unknown)}")
            operated = list(users.filter(is_active=True))
            count = users.deactivate()
            for user in operated:
                record(
                    AuditKind.ACCOUNT_DEACTIVATED,
                    practice_id=user.practice_id,
                    subject=f"user:{user.pk}",
                    details={"email": user.email, "role": user.role, "by": "operator"},
                )
        self.stdout.write(f"Deactivated {count} account(s); their websockets are being closed.")
