"""``confide backup``: a backup of the database into a directory, keeping the newest few."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backups import BackupError, make_backup, prune

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Backs the database up into a directory (pg_dump, or SQLite's online backup), "
        "keeping the newest --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", required=True, type=Path, help="where backups are kept")
        parser.add_argument(
            "--keep", type=int, default=14, help="how many of the newest to keep (default 14)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["keep"] < 1:
            raise CommandError("--keep must be at least 1")
        directory: Path = options["dir"].resolve()
        try:
            backup = make_backup(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        gone = prune(directory, options["keep"])
        log.info(
            "backup %s made: %d bytes in %.1f s; %d older one(s) deleted",
            backup.path.name,
            backup.size,
            backup.seconds,
            len(gone),
        )
        self.stdout.write(str(backup.path))
