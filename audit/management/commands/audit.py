"""``confide audit verify|head|prune``: check the audit log's chain, show its head, or
remove what retention no longer keeps (docs/records.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.log import Anchor, log_head, prune, uses_trigger, verify


def _anchor(text: str) -> Anchor:
    try:
        return Anchor.parse(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Checks the audit log's hash chain (verify), shows its head (head), or removes "
        "events past retention (prune)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        check = actions.add_parser(
            "verify", help="check every event's hash and link; exit 1 at the first bad row"
        )
        check.add_argument(
            "--anchor",
            action="append",
            default=[],
            type=_anchor,
            metavar="SEQ:HASH",
            help="a head from an audit_head log line kept outside the database (repeatable)",
        )
        actions.add_parser("head", help="print the newest event's number and hash (and log it)")
        cut = actions.add_parser("prune", help="remove events older than the retention period")
        cut.add_argument(
            "--years",
            type=int,
            default=None,
            help="keep this many years (default CONFIDE_AUDIT_RETENTION_YEARS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "head":
            head = log_head()
            self.stdout.write(f"{head.seq}:{head.digest}")
        elif action == "prune":
            years = options["years"] or settings.CONFIDE_AUDIT_RETENTION_YEARS
            if years < 1:
                raise CommandError("Retention is at least one year.")
            self.stdout.write(f"Removed {prune(years)} event(s) older than {years} years.")
        else:
            self._verify(options["anchor"])

    def _verify(self, anchors: list[Anchor]) -> None:
        report = verify(anchors)
        if report.finding is not None:
            raise CommandError(f"The audit log does not hold at {report.finding}.")
        guard = "; the database refuses edits (trigger)" if uses_trigger() else ""
        span = f"events {report.first_seq} to {report.last_seq}" if report.checked else "no events"
        self.stdout.write(
            f"The audit log holds: {span} chained, head {report.last_seq}:{report.digest}, "
            f"{len(anchors)} anchor(s) matched{guard}."
        )
