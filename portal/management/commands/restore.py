"""``confide restore FILE``: a backup into an empty database, brought up to this version,
in a new database generation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from messaging.services.generations import begin_generation
from portal.backups import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restores a backup into an empty database, migrates it, and begins a new database "
        "generation so that clients notice what the backup lacks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="a confide-<time>.dump or .sqlite3 backup")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"].resolve()
        try:
            restore_backup(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        call_command("migrate", "--noinput", verbosity=0)
        generation = begin_generation(f"restored from {path.name}")
        self.stdout.write(
            f"Restored {path.name}; database generation {generation.id} begins. Start the "
            "servers: clients that hold newer messages say so and send their own again."
        )
