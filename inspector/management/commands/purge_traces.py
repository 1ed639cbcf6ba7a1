"""Delete traces older than N days, in batches, keeping every trace something refers to."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inspector.services.retention import traces_purge


class Command(BaseCommand):
    help = ("Delete traces that started more than N days ago with their stage runs, payloads, asset usage rows "
            "and replan events; baselines and traces referred to by analyses, runs and override tests are kept. "
            "See docs/reliability.md.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than-days", type=int, default=None,
                            help="age in days (default: OPS_RETENTION_DAYS; 0 there means retention is off)")
        parser.add_argument("--batch-size", type=int, default=None, help="traces per transaction "
                            "(default: OPS_RETENTION_BATCH)")
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")

    def handle(self, *args, older_than_days: int | None, batch_size: int | None, dry_run: bool, **options):
        days = settings.OPS_RETENTION_DAYS if older_than_days is None else older_than_days
        if older_than_days is None and not days:
            raise CommandError("retention is disabled (OPS_RETENTION_DAYS=0); pass --older-than-days N")
        if days < 1:
            raise CommandError("--older-than-days must be at least 1")
        batch = settings.OPS_RETENTION_BATCH if batch_size is None else batch_size
        if batch < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - timedelta(days=days)
        counts = traces_purge(older_than=cutoff, batch_size=batch, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{verb} {counts.traces} trace(s) that started before {cutoff:%Y-%m-%d %H:%M} UTC "
            f"({counts.stage_runs} stage runs, {counts.stage_payloads} payloads, {counts.asset_usages} asset usage "
            f"rows, {counts.replan_events} replan events, {counts.replan_ledgers} ledger rows) in "
            f"{counts.batches} batch(es); kept {counts.kept} old trace(s) still referred to"
        )
