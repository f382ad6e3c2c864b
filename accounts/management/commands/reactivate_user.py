"""Gives accounts their access back: ``confide reactivate_user EMAIL [EMAIL ...]``.

For an admin deactivated by mistake (the console lets no admin deactivate themselves or
the practice's last active admin, but an operator can), or anyone an admin cannot reach.
Their keys and conversations were never touched; they sign in with their password.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import User, normalise_email
from audit.log import record
from protocol.audit import AuditKind


class Command(BaseCommand):
    help = "Reactivates deactivated accounts by email."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("emails", nargs="+", metavar="EMAIL")

    def handle(self, *args: Any, **options: Any) -> None:
        emails = sorted({normalise_email(email) for email in options["emails"]})
        with transaction.atomic():
            users = User.objects.filter(email__in=emails)
            unknown = sorted(set(emails) - set(users.values_list("email", flat=True)))
            if unknown:
                raise CommandError(f"No account with the email: {', '.join(unknown)}")
            operated = list(users.filter(is_active=False))
            count = users.filter(is_active=False).update(is_active=True)
            for user in operated:
                record(
                    AuditKind.ACCOUNT_REACTIVATED,
                    practice_id=user.practice_id,
                    subject=f"user:{user.pk}",
                    details={"email": user.email, "role": user.role, "by": "operator"},
                )
        self.stdout.write(f"Reactivated {count} account(s); they can sign in again.")
