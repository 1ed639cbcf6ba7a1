"""Daily roll-ups of the asset bill of materials, for impact reports over long ranges.

An impact report aggregates every usage row of a version; at 500k traces a
version that is ~480 ms whatever the indexes. Closed days are therefore
summed once into ``UsageRollup`` (one row per version, stage, day, tenant
and duration bucket) and ``TraceRollup`` (traces per day and tenant), and a
report reads whole rolled days from there and only the rest from the usage
rows. ``RollupDay`` says which days are rolled and whether a late trace or
a delete has touched one since (then it is read live until rolled again).

Both hold production traffic only: test-mode traces are not rolled up (a
report counts them live when it includes them; ``inspector.services.rollups``).
"""

from __future__ import annotations

from django.db import models


class RollupDay(models.Model):
    """A UTC day's roll-up state.

    Every change to the day's rows after the fact (a late trace, a delete)
    bumps ``dirty_generation``; a roll-up records the generation it read
    before summing. The roll-up is valid while no change came since:
    generations, not clocks, so hosts' clocks never matter.
    """

    day = models.DateField(primary_key=True)
    dirty_generation = models.PositiveIntegerField(default=0)
    rolled_generation = models.PositiveIntegerField(null=True, blank=True)
    rolled_at = models.DateTimeField(null=True, blank=True)
    dirtied_at = models.DateTimeField(null=True, blank=True)
    usage_rows = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} {'valid' if self.valid else 'stale'} (rolled {self.rolled_at}, dirtied {self.dirtied_at})"

    @property
    def valid(self) -> bool:
        return self.rolled_generation is not None and self.rolled_generation >= self.dirty_generation

    @classmethod
    def valid_q(cls) -> models.Q:
        return models.Q(rolled_generation__isnull=False, rolled_generation__gte=models.F("dirty_generation"))


class UsageRollup(models.Model):
    """Sums of one version's usage rows for a stage, UTC day, tenant and duration bucket.

    ``bucket`` is ``inspector.services.rollups.duration_bucket(duration_ms)``:
    exact below 100 ms, then 5 % wide, so percentiles read from the buckets
    are within ~2.5 % of the exact figure.
    """

    asset_version = models.ForeignKey("inspector.AssetVersion", on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=16, blank=True, default="")
    day = models.DateField()
    tenant_id = models.CharField(max_length=64, blank=True, default="")
    bucket = models.PositiveSmallIntegerField()
    traces = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    replans = models.PositiveIntegerField(default=0)
    empties = models.PositiveIntegerField(default=0)
    references_sum = models.BigIntegerField(default=0)
    rows_sum = models.BigIntegerField(default=0)
    tokens_sum = models.BigIntegerField(default=0)
    cost_sum = models.FloatField(default=0.0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset_version", "stage", "day", "tenant_id", "bucket"],
                                    name="usage_rollup_unique_row"),
        ]
        indexes = [
            models.Index(fields=["day"], name="usage_rollup_day_idx"),
        ]

    def __str__(self) -> str:
        return f"v{self.asset_version_id} {self.stage or 'trace'} {self.day} {self.tenant_id} b{self.bucket}"


class TraceRollup(models.Model):
    """Traces per UTC day and tenant (the denominator of an asset's traffic share)."""

    day = models.DateField()
    tenant_id = models.CharField(max_length=64, blank=True, default="")
    traces = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "tenant_id"], name="trace_rollup_unique_row")]

    def __str__(self) -> str:
        return f"{self.day} {self.tenant_id}: {self.traces}"
