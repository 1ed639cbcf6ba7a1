"""Golden suites: datasets of items (a question, or a stage re-run from a stored trace) run N times each.

A suite run re-runs every item ``repeats`` times in test mode, compares the
candidates with the item's recorded baseline as a GROUP analysis (the
statistics decide), and checks the item's assertions on every candidate
(docs/regression.md, "Suites").
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from kernel.tenancy import SHARED_TENANT
from regression.models import ClaimedWork, RegressionAnalysis, Verdict

MAX_REPEATS = 50


class GoldenSuite(models.Model):
    """A named set of items, each run ``repeats`` times per suite run."""

    # Unique per tenant, as golden queries are.
    name = models.SlugField(max_length=100)
    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT)
    description = models.TextField(blank=True, default="")
    repeats = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(MAX_REPEATS)],
        help_text="How many times each item runs (baseline and candidate); pass^k is over these k.")
    options = models.JSONField(default=dict, blank=True, help_text="Scoring overrides for this suite's analyses.")
    enabled = models.BooleanField(default=True)
    schedule = models.CharField(
        max_length=100, blank=True, default="",
        help_text='Cron "minute hour day-of-month month day-of-week" (UTC); empty = not scheduled.')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "name"], name="golden_suite_unique_name_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class SuiteItem(models.Model):
    """One case of a suite: a question to ask, or one stage of a stored trace to re-run."""

    class Kind(models.TextChoices):
        QUESTION = "question"
        STAGE = "stage"

    suite = models.ForeignKey(GoldenSuite, on_delete=models.CASCADE, related_name="items")
    name = models.SlugField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.QUESTION)
    question = models.TextField(blank=True, default="", help_text="kind=question: the question asked.")
    stage = models.CharField(max_length=32, blank=True, default="", help_text="kind=stage: the stage re-run.")
    trace_id = models.CharField(max_length=128, blank=True, default="",
                                help_text="kind=stage: the stored trace whose stage input is re-run.")
    assertions = models.JSONField(default=list, blank=True,
                                  help_text="Expected-output checks on every candidate (regression/assertions.py).")
    baseline_trace_ids = models.JSONField(default=list, blank=True,
                                          help_text="The traces recorded as this item's baseline group.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["suite", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["suite", "name"], name="suite_item_unique_name")]

    def __str__(self) -> str:
        return f"{self.suite}/{self.name}"


class SuiteRun(ClaimedWork):
    """One run of a suite (or the recording of its baseline): every item, ``repeats`` times."""

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        SCHEDULE = "schedule"
        ASSET_PUBLISH = "asset_publish"
        GATE = "gate"
        BASELINE = "baseline"

    # Runs are the suite's history: a suite with runs is disabled, not deleted.
    suite = models.ForeignKey(GoldenSuite, on_delete=models.PROTECT, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    overrides = models.JSONField(default=dict, blank=True)
    verdict = models.CharField(max_length=4, choices=Verdict.choices, blank=True, default="")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    progress = models.PositiveIntegerField(default=0, help_text="Items finished so far in this run.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="suite_run_status_created_idx")]

    def __str__(self) -> str:
        return f"run of suite {self.suite} ({self.status})"


class SuiteItemResult(models.Model):
    """An item's outcome in one suite run: its candidates, their analysis and assertions, and pass^k."""

    run = models.ForeignKey(SuiteRun, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(SuiteItem, on_delete=models.CASCADE, related_name="results")
    candidate_trace_ids = models.JSONField(default=list, blank=True)
    analysis = models.ForeignKey(RegressionAnalysis, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="suite_results")
    verdict = models.CharField(max_length=4, choices=Verdict.choices, blank=True, default="")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    assertion_results = models.JSONField(
        default=list, blank=True,
        help_text="Per repeat: {trace_id, passed, assertions: [{index, pointer, op, passed, message}]}.")
    passes = models.PositiveSmallIntegerField(default=0, help_text="Repeats that passed every assertion.")
    repeats = models.PositiveSmallIntegerField(default=0)
    pass_all = models.BooleanField(
        default=False, help_text="pass^k: every repeat passed its assertions and the item's verdict is not FAIL.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "item__position", "item_id"]
        constraints = [models.UniqueConstraint(fields=["run", "item"], name="suite_result_unique_item_per_run")]

    def __str__(self) -> str:
        return f"{self.item} in run {self.run_id} ({self.verdict or 'pending'})"
