"""Spans waiting to become a trace, and the tenants' span-name rules."""

from __future__ import annotations

from django.db import models

from inspector.contracts import STAGE_ORDER
from kernel.tenancy import SHARED_TENANT


class BufferedSpan(models.Model):
    """One exported span (``otlp.spans`` record), kept until its trace is assembled and a while after.

    Unique per tenant, trace and span id: a span exported twice is stored once.
    Late spans of an assembled trace re-assemble it from all its spans.
    """

    tenant_id = models.CharField(max_length=64)
    trace_hex = models.CharField(max_length=32)
    span_id = models.CharField(max_length=16)
    record = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant_id", "trace_hex", "span_id"],
                                               name="otlp_span_unique_per_trace")]
        indexes = [models.Index(fields=["received_at"], name="otlp_span_received_idx")]

    def __str__(self) -> str:
        return f"{self.trace_hex}/{self.span_id}"


class SpanStageRule(models.Model):
    """Spans of this tenant whose name matches ``pattern`` (fnmatch: ``*``, ``?``, ``[…]``) are ``stage``.

    Rules are tried by ``position``, after a span's own ``ops.stage`` attribute
    and before the OpenInference and GenAI conventions (docs/otlp.md).
    """

    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT)
    pattern = models.CharField(max_length=200, help_text="fnmatch pattern on the span name, e.g. 'sql.*'")
    stage = models.CharField(max_length=16, choices=[(stage, stage) for stage in STAGE_ORDER])
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower positions are tried first.")
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["tenant_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant_id", "pattern"], name="otlp_rule_unique_pattern")]

    def __str__(self) -> str:
        return f"{self.pattern} → {self.stage} ({self.tenant_id})"
