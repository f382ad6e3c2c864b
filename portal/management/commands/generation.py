"""``confide generation``: the database generation the servers announce; ``--new`` begins
one, after a restore made without ``confide restore``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from messaging.models import Generation
from messaging.services.generations import begin_generation


class Command(BaseCommand):
    help = (
        "Shows the database generation; --new begins one after a restore made by other "
        "means (then restart the servers)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new",
            metavar="REASON",
            help="begin a new generation, saying why (e.g. 'point-in-time recovery to 09:00')",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new"]:
            generation = begin_generation(options["new"])
            self.stdout.write(f"Database generation {generation.id} begins: restart the servers.")
            return
        for row in Generation.objects.order_by("id"):
            self.stdout.write(
                f"{row.id}  {row.started_at:%Y-%m-%d %H:%M:%S}Z  {row.token}  {row.reason}"
            )
