"""Regression analyses, golden queries, baselines and regression runs (SPEC §5)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from kernel.tenancy import SHARED_TENANT


class Verdict(models.TextChoices):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"


class WorkStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ClaimedWork(models.Model):
    """The claim lifecycle's bookkeeping, shared by every work item (regression/services/work.py).

    ``status`` and the three times are the work's progress (pending → running →
    completed/failed, ``error_message`` when it failed); ``attempts`` counts
    claims and is the claim's fencing token; ``enqueued_at`` is the outbox mark
    (null while the task message has not reached the broker); ``heartbeat_at``
    is refreshed by the worker holding the claim.
    """

    status = models.CharField(max_length=16, choices=WorkStatus.choices, default=WorkStatus.PENDING)
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker claimed it (the reaper's clock).")
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the broker last accepted its task message; empty = not sent yet.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Refreshed while a live worker holds the claim; a stale one is reaped.")

    class Meta:
        abstract = True


class RegressionAnalysis(ClaimedWork):
    """A comparison of baseline and candidate traces (one each, or a group each)."""

    class Kind(models.TextChoices):
        PAIR = "pair"
        GROUP = "group"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The candidate traces' tenant: analyses are shown only to its members.
    tenant_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    baseline_trace_ids = models.JSONField(default=list)
    candidate_trace_ids = models.JSONField(default=list)
    options = models.JSONField(default=dict, blank=True, help_text="Scoring overrides (docs/regression-scoring.md).")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    verdict = models.CharField(max_length=4, choices=Verdict.choices, blank=True, default="")
    stage_results = models.JSONField(default=list, blank=True)
    critical_issues = models.JSONField(default=list, blank=True)
    statistics = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "regression analyses"
        indexes = [models.Index(fields=["status", "started_at"], name="analysis_status_started_idx")]

    def __str__(self) -> str:
        return f"analysis {self.pk} ({self.status}{', ' + self.verdict if self.verdict else ''})"


class GoldenQuery(models.Model):
    """A question whose answer must not regress; runs re-ask it and compare with the baseline."""

    # Unique per tenant: a name another tenant uses is free (and its use is not revealed).
    name = models.SlugField(max_length=100)
    question = models.TextField()
    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT)
    options = models.JSONField(default=dict, blank=True, help_text="Scoring overrides for this query's analyses.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "golden queries"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "name"], name="golden_query_unique_name_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def current_baseline(self) -> Baseline | None:
        return self.baselines.order_by("-created_at", "-id").first()


class Baseline(models.Model):
    """Pins a trace as the expected answer of a golden query. Append-only: the newest wins."""

    golden_query = models.ForeignKey(GoldenQuery, on_delete=models.CASCADE, related_name="baselines")
    trace = models.ForeignKey("inspector.Trace", on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.golden_query} → {self.trace.trace_id}"


class RegressionRun(ClaimedWork):
    """One re-run of a golden query: a real candidate trace and its analysis."""

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        ASSET_PUBLISH = "asset_publish"
        SCHEDULE = "schedule"

    golden_query = models.ForeignKey(GoldenQuery, on_delete=models.CASCADE, related_name="runs")
    baseline = models.ForeignKey(Baseline, on_delete=models.PROTECT, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    overrides = models.JSONField(default=dict, blank=True)
    candidate_trace = models.ForeignKey("inspector.Trace", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    analysis = models.ForeignKey(RegressionAnalysis, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="runs")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="run_status_created_idx")]

    def __str__(self) -> str:
        return f"run of {self.golden_query} ({self.status})"


class OverrideTest(ClaimedWork):
    """A test-mode re-run of a trace's question with overridden asset versions, and its analysis."""

    trace = models.ForeignKey("inspector.Trace", on_delete=models.CASCADE, related_name="+")
    baseline_trace = models.ForeignKey("inspector.Trace", on_delete=models.CASCADE, related_name="+")
    overrides = models.JSONField(default=dict)
    reason = models.TextField(blank=True, default="")
    candidate_trace = models.ForeignKey("inspector.Trace", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    analysis = models.ForeignKey(RegressionAnalysis, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="override_tests")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"override test of {self.trace.trace_id} ({self.status})"


from regression.suite_models import GoldenSuite, SuiteItem, SuiteItemResult, SuiteRun  # noqa: E402,F401  (suites: their own module)
