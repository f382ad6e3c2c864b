"""Another setup link for a practice's staff: ``confide setup_link --practice ID --email
EMAIL [--role admin|therapist]``, for instance when the first admin's link expired or an
admin lost access. An earlier pending link for the same email stops working."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Practice, Role
from accounts.setup import create_setup_link
from accounts.staff_links import print_link, public_url
from audit.log import record
from protocol.audit import AuditKind
from protocol.errors import ApiError


class Command(BaseCommand):
    help = "Prints a new one-time setup link for an admin or therapist of a practice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", required=True, type=int, metavar="ID")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", choices=["admin", "therapist"], default="admin")
        parser.add_argument("--name", default=None, metavar="NAME")
        parser.add_argument("--url", default=None, help="As for create_practice.")

    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.filter(pk=options["practice"]).first()
        if practice is None:
            known = ", ".join(f"{p.pk} ({p.name})" for p in Practice.objects.order_by("pk"))
            raise CommandError(f"No practice {options['practice']}. Practices: {known or 'none'}.")
        role = Role(options["role"])
        name = options["name"] or ("Practice admin" if role == Role.ADMIN else "Therapist")
        try:
            base = public_url(options["url"])
            with transaction.atomic():
                new = create_setup_link(practice, role, options["email"], name)
                record(
                    AuditKind.SETUP_LINK_CREATED,
                    practice_id=practice.pk,
                    subject=f"setup_link:{new.link.pk}",
                    details={"role": role.value, "email": new.link.email, "by": "operator"},
                )
        except ApiError as exc:
            raise CommandError(exc.message) from None
        print_link(self.stdout, base, new)
