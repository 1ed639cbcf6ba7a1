"""Replan policies, the per-trace replan ledger, and replan events (SPEC §4)."""

from __future__ import annotations

from typing import get_args

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from controlloop.contracts import (
    DECISIONS,
    EPOCH,
    SEVERITIES,
    TRIGGER_TYPES,
    VETOES,
    BreakerPhase,
    BreakerState,
    PolicySnapshot,
    TriggerRule,
)
from kernel.tenancy import SHARED_TENANT


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class ReplanPolicy(models.Model):
    """How the control loop answers triggers: one default, optionally one per tenant."""

    # Unique per tenant: a name another tenant uses is free (and its use is not revealed).
    name = models.CharField(max_length=100)
    tenant_id = models.CharField(max_length=64, blank=True, default="", help_text="Empty for the default policy.")
    is_default = models.BooleanField(default=False)
    max_replans = models.PositiveSmallIntegerField(default=2)
    allowed_triggers = models.JSONField(default=list, blank=True)
    min_severity = models.CharField(max_length=16, choices=_choices(SEVERITIES), default="low")
    min_interval_seconds = models.FloatField(default=0)
    cooling_period_seconds = models.FloatField(default=0)
    rules = models.JSONField(default=dict, blank=True, help_text="trigger type → {decision, scope, patch, guidance}")
    breaker_window = models.PositiveSmallIntegerField(default=10)
    breaker_min_samples = models.PositiveSmallIntegerField(default=4)
    breaker_failure_ratio = models.FloatField(default=0.5)
    breaker_cooldown_seconds = models.FloatField(default=300, help_text="An open breaker allows one trial after this.")
    # Test-mode runs name the policy they decided with by id and version (trace metadata "control_loop").
    version = models.PositiveIntegerField(default=1, editable=False, help_text="Raised by one on every save.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "replan policies"
        ordering = ["-is_default", "tenant_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="policy_one_default"),
            models.UniqueConstraint(fields=["tenant_id"], condition=~Q(tenant_id=""), name="policy_one_per_tenant"),
            models.UniqueConstraint(fields=["tenant_id", "name"], name="policy_unique_name_per_tenant"),
            models.CheckConstraint(condition=Q(min_interval_seconds__gte=0) & Q(cooling_period_seconds__gte=0),
                                   name="policy_intervals_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            # In the database, so two editors saving at once still get two versions.
            self.version = models.F("version") + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
        if isinstance(self.version, models.expressions.Combinable):
            self.refresh_from_db(fields=["version"])

    def snapshot(self) -> PolicySnapshot:
        """The policy as the pure decision function sees it (raises pydantic.ValidationError if invalid)."""
        return PolicySnapshot(
            policy_id=self.pk or 0,
            name=self.name,
            max_replans=self.max_replans,
            allowed_triggers=self.allowed_triggers,
            min_severity=self.min_severity,
            min_interval_seconds=self.min_interval_seconds,
            cooling_period_seconds=self.cooling_period_seconds,
            rules={key: TriggerRule.model_validate(value) for key, value in (self.rules or {}).items()},
            breaker_window=self.breaker_window,
            breaker_min_samples=self.breaker_min_samples,
            breaker_failure_ratio=self.breaker_failure_ratio,
            breaker_cooldown_seconds=self.breaker_cooldown_seconds,
        )

    def clean(self) -> None:
        import pydantic

        if self.is_default and self.tenant_id:
            raise ValidationError({"tenant_id": "the default policy belongs to no tenant"})
        if not isinstance(self.rules, dict):
            raise ValidationError({"rules": "rules must be an object: trigger type → rule"})
        unknown = sorted(set(self.rules) - set(TRIGGER_TYPES))
        if unknown:
            raise ValidationError({"rules": f"unknown trigger type(s): {', '.join(unknown)}"})
        for trigger_type, rule in self.rules.items():
            try:
                TriggerRule.model_validate(rule)
            except pydantic.ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                raise ValidationError({"rules": f"{trigger_type}.{where}: {first['msg']}"}) from exc
        try:
            self.snapshot()
        except pydantic.ValidationError as exc:
            raise ValidationError({_field(e["loc"]): e["msg"] for e in exc.errors()}) from exc


def _field(loc: tuple) -> str:
    first = str(loc[0]) if loc else "__all__"
    return first if first in {f.name for f in ReplanPolicy._meta.fields} else "__all__"


class ReplanLedger(models.Model):
    """One row per trace that asked for replans; locked while deciding.

    Two runs of the same trace deciding at once serialise on this row, so the
    replan limit cannot be passed twice. A trace is named by tenant and id
    (trace ids are unique per tenant).
    """

    trace_id = models.CharField(max_length=128)
    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT)
    replans_used = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trace_id", "tenant_id"], name="ledger_unique_trace_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.trace_id}: {self.replans_used}"


class ReplanEvent(models.Model):
    """A replan request, the decision on it, or the execution of an approved replan."""

    class Kind(models.TextChoices):
        REQUEST = "request"
        DECISION = "decision"
        EXECUTION = "execution"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    trace_id = models.CharField(max_length=128)
    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT)
    policy = models.ForeignKey(ReplanPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    request = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="followups")
    trigger_type = models.CharField(max_length=32, choices=_choices(TRIGGER_TYPES))
    stage_name = models.CharField(max_length=32, blank=True, default="")
    severity = models.CharField(max_length=16, choices=_choices(SEVERITIES), default="medium")
    trigger_reason = models.TextField(blank=True, default="")
    trigger_raw = models.TextField(blank=True, default="")
    trigger_metadata = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=32, choices=_choices(DECISIONS), blank=True, default="")
    approved = models.BooleanField(null=True, blank=True)
    veto = models.CharField(max_length=32, choices=_choices(VETOES), blank=True, default="")
    reason = models.TextField(blank=True, default="")
    attempt = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=0)
    scope = models.CharField(max_length=32, blank=True, default="")
    patch_before = models.JSONField(default=dict, blank=True)
    patch_after = models.JSONField(default=dict, blank=True)
    json_patch = models.JSONField(default=list, blank=True, help_text="RFC 6902 operations from before to after.")
    outcome = models.CharField(max_length=16, blank=True, default="", help_text="execution: succeeded or failed")
    policy_version = models.PositiveIntegerField(default=0, help_text="The policy's version when it decided.")
    breaker_state = models.CharField(max_length=16, blank=True, default="",
                                     help_text="decision: the breaker it saw (closed, open, half_open, or neutral in "
                                               "test mode); empty when no breaker was asked")
    isolated = models.BooleanField(default=False, help_text="Decided in a test-mode run against a snapshot: "
                                                            "never read by the live breaker or ledger.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["trace_id", "created_at"], name="replan_trace_time_idx"),
            models.Index(fields=["trigger_type", "created_at"], name="replan_trigger_time_idx"),
            models.Index(fields=["created_at"], name="replan_time_idx"),
            models.Index(fields=["policy", "kind", "created_at"], name="replan_policy_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.trigger_type} on {self.trace_id}"


class ReplanBreaker(models.Model):
    """The breaker of one scope: (tenant, policy, trigger type, stage); see controlloop/breaker.py.

    Locked while deciding and while recording an outcome, so concurrent runs
    of the scope see each other's trial and outcomes.
    """

    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT)
    policy = models.ForeignKey(ReplanPolicy, on_delete=models.CASCADE, related_name="breakers")
    trigger_type = models.CharField(max_length=32, choices=_choices(TRIGGER_TYPES))
    stage_name = models.CharField(max_length=32, blank=True, default="")
    state = models.CharField(max_length=16, choices=_choices(get_args(BreakerPhase)), default="closed")
    outcomes = models.JSONField(default=list, blank=True, help_text="The window, oldest first: true = succeeded.")
    opened_at = models.DateTimeField(null=True, blank=True)
    trial_started_at = models.DateTimeField(null=True, blank=True, help_text="Half-open: the trial in flight.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "policy", "trigger_type", "stage_name"],
                                    name="breaker_one_per_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.stage_name or 'any stage'}/{self.trigger_type} in {self.tenant_id}: {self.state}"

    def breaker_state(self) -> BreakerState:
        return BreakerState(phase=self.state, outcomes=list(self.outcomes or []), opened_at=self.opened_at or EPOCH,
                            trial_started_at=self.trial_started_at or EPOCH)

    def store(self, state: BreakerState) -> None:
        """Save ``state`` if it differs from what is stored."""
        if state == self.breaker_state():
            return
        self.state = state.phase
        self.outcomes = state.outcomes
        self.opened_at = None if state.opened_at == EPOCH else state.opened_at
        self.trial_started_at = None if state.trial_started_at == EPOCH else state.trial_started_at
        self.save(update_fields=["state", "outcomes", "opened_at", "trial_started_at", "updated_at"])
