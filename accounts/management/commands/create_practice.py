"""Starts a practice in production: ``confide create_practice --name NAME --time-zone ZONE
--admin-email EMAIL``.

Makes the practice (with the default messaging agreement and crisis lines) and prints a
one-time setup link for its first admin, who opens it in their own browser, chooses a
password and makes their keys there: nobody else, the operator included, ever holds
them. The link expires after ``CONFIDE_SETUP_LINK_HOURS``; ``confide setup_link`` makes
another. The link is built on ``--url`` (default: ``CONFIDE_PUBLIC_URL``, else the
address ``confide serve`` listens on).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Practice, Role
from accounts.practices import check_time_zone
from accounts.setup import create_setup_link
from accounts.staff_links import print_link, public_url
from audit.log import record
from protocol.audit import AuditKind
from protocol.errors import ApiError


class Command(BaseCommand):
    help = "Creates a practice and prints a one-time setup link for its first admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The practice's name, as clients see it.")
        parser.add_argument(
            "--time-zone",
            required=True,
            metavar="ZONE",
            help="An IANA time zone name, such as America/Los_Angeles.",
        )
        parser.add_argument("--admin-email", required=True, metavar="EMAIL")
        parser.add_argument(
            "--admin-name", default="Practice admin", metavar="NAME", help="Shown to staff."
        )
        parser.add_argument(
            "--url",
            default=None,
            help="The portal's public address, such as https://portal.example.org "
            "(default: CONFIDE_PUBLIC_URL, else where `confide serve` listens).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name or len(name) > 200:
            raise CommandError("The practice's name must be 1 to 200 characters.")
        try:
            zone = check_time_zone(options["time_zone"])
            base = public_url(options["url"])
            with transaction.atomic():
                practice = Practice.objects.create(name=name, time_zone=zone)
                new = create_setup_link(
                    practice, Role.ADMIN, options["admin_email"], options["admin_name"]
                )
                record(
                    AuditKind.PRACTICE_CREATED,
                    practice_id=practice.pk,
                    subject=f"practice:{practice.pk}",
                    details={"by": "operator"},
                )
                record(
                    AuditKind.SETUP_LINK_CREATED,
                    practice_id=practice.pk,
                    subject=f"setup_link:{new.link.pk}",
                    details={"role": "admin", "email": new.link.email, "by": "operator"},
                )
        except ApiError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created practice {practice.pk}: {practice.name} ({zone}).")
        print_link(self.stdout, base, new)
