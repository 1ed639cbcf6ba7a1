"""Roll closed days of asset usage up for impact reports (what the beat job does every 10 minutes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inspector.services.rollups import usage_rollup


class Command(BaseCommand):
    help = ("Sum every closed, not yet rolled (or since changed) UTC day of the asset bill of materials into the "
            "daily roll-up that impact reports read. See docs/impact.md.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-seconds", type=float, default=None,
                            help="stop starting new days after this long (default: no limit)")

    def handle(self, *args, max_seconds: float | None, **options):
        if max_seconds is not None and max_seconds <= 0:
            raise CommandError("--max-seconds must be positive")
        counts = usage_rollup(max_seconds=max_seconds)
        state = "" if counts.finished else " (stopped at --max-seconds; run again to continue)"
        self.stdout.write(f"rolled {counts.days} day(s): {counts.usage_rows} usage rows into "
                          f"{counts.rollup_rows} roll-up rows{state}")
