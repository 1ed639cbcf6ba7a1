"""Traces, stage runs and their payloads.

Payloads live in their own table (``StagePayload``) so that trace lists and
detail pages, which read ``Trace`` and ``StageRun`` only, never pull the
megabytes a stage may have produced.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from django.conf import settings
from django.db import models

from inspector.contracts import STAGE_ORDER
from inspector.payload_preview import preview_from_compressed_head
from inspector.usage import cost_text, tokens_text
from kernel.tenancy import SHARED_TENANT


class Route(models.TextChoices):
    PLAN = "plan"
    DIRECT = "direct"
    REJECT = "reject"
    UNKNOWN = "", "unknown"


class TraceStatus(models.TextChoices):
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class StageStatus(models.TextChoices):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


StageChoices = [(name, name.upper()) for name in STAGE_ORDER]


class Trace(models.Model):
    # Unique per tenant (trace_unique_id_per_tenant): tenants choose their ids
    # independently, and a clash must not reveal another tenant's id.
    trace_id = models.CharField(max_length=128)
    parent_trace_id = models.CharField(max_length=128, blank=True, default="")
    tenant_id = models.CharField(max_length=64, default=SHARED_TENANT)
    # The conversation the trace belongs to (a client's id; unique per tenant like trace ids): "" for none.
    session_id = models.CharField(max_length=128, blank=True, default="")
    question = models.TextField()
    route = models.CharField(max_length=16, choices=Route.choices, blank=True, default="")
    status = models.CharField(max_length=16, choices=TraceStatus.choices)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    test_mode = models.BooleanField(default=False)
    stage_count = models.PositiveSmallIntegerField(default=0)
    replan_count = models.PositiveSmallIntegerField(default=0)
    # Tokens and cost of every stage run, retries included (inspector/usage.py, docs/cost.md).
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.FloatField(default=0.0, help_text="Known cost of the stage runs, in the price table's currency.")
    unpriced_runs = models.PositiveSmallIntegerField(
        default=0, help_text="Stage runs that used tokens nobody priced: the cost is at least the figure shown.")
    metadata = models.JSONField(default=dict, blank=True)
    # SHA-256 of the canonical ingest body: an identical re-send is a no-op.
    content_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [
            ("run_pipeline", "Can run the pipeline (/ops/ask)"),
            ("use_test_mode", "Can run in test mode with asset overrides"),
        ]
        constraints = [
            # trace_id first: its index also answers look-ups by trace_id alone.
            models.UniqueConstraint(fields=["trace_id", "tenant_id"], name="trace_unique_id_per_tenant"),
        ]
        indexes = [
            models.Index(fields=["-started_at", "-id"], name="trace_started_idx"),
            models.Index(fields=["tenant_id", "-started_at"], name="trace_tenant_started_idx"),
            models.Index(fields=["status", "-started_at"], name="trace_status_started_idx"),
            models.Index(fields=["route", "-started_at"], name="trace_route_started_idx"),
            models.Index(fields=["test_mode", "-started_at"], name="trace_testmode_started_idx"),
            # Equality look-ups only: a plain index, without the pattern-ops twin db_index adds on PostgreSQL.
            models.Index(fields=["parent_trace_id"], name="trace_parent_idx"),
            # A session's traces in order; most traces have none, so only those that do are indexed.
            models.Index(fields=["tenant_id", "session_id", "started_at"], name="trace_session_idx",
                         condition=~models.Q(session_id="")),
        ]

    def __str__(self) -> str:
        return self.trace_id

    @property
    def tokens_text(self) -> str:
        return tokens_text(self.input_tokens, self.output_tokens)

    @property
    def cost_text(self) -> str:
        return cost_text(self.cost, unpriced=self.unpriced_runs)


class StageRun(models.Model):
    """One attempt of one stage; summary columns only (payloads in ``StagePayload``)."""

    # No index of its own: stagerun_unique_attempt (trace, stage, attempt) starts with it.
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="stage_runs", db_index=False)
    stage = models.CharField(max_length=16, choices=StageChoices)
    attempt = models.PositiveSmallIntegerField(default=1)
    sequence = models.PositiveSmallIntegerField(default=0, help_text="Execution order within the trace.")
    status = models.CharField(max_length=16, choices=StageStatus.choices, default=StageStatus.OK)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    warnings_count = models.PositiveIntegerField(default=0)
    errors_count = models.PositiveIntegerField(default=0)
    references_count = models.PositiveIntegerField(default=0)
    result_empty = models.BooleanField(default=False)
    # Small summary of StageDiagnostics (warnings/errors lists, flags, counts).
    diagnostics = models.JSONField(default=dict)
    applied_assets = models.JSONField(default=dict)
    input_size = models.PositiveIntegerField(default=0, help_text="Bytes of the input JSON.")
    output_size = models.PositiveIntegerField(default=0, help_text="Bytes of the output JSON.")
    # The output's result.usage, priced at ingest when it gave no cost (inspector/usage.py).
    model = models.CharField(max_length=200, blank=True, default="")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.FloatField(default=0.0)
    cost_source = models.CharField(max_length=16, blank=True, default="",
                                   help_text="given, price_table, or empty when nothing priced it.")
    # No stored previews: input_preview / output_preview are cut on read from the payload's head
    # (selectors.stage_runs_with_previews; see inspector/payload_preview.py for why).

    class Meta:
        ordering = ["trace_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["trace", "stage", "attempt"], name="stagerun_unique_attempt"),
        ]
        indexes = [models.Index(fields=["stage", "status"], name="stagerun_stage_status_idx")]

    def __str__(self) -> str:
        return f"{self.trace_id}:{self.stage}#{self.attempt}"

    @property
    def tokens_text(self) -> str:
        return tokens_text(self.input_tokens, self.output_tokens)

    @property
    def cost_text(self) -> str:
        unpriced = int(self.cost_source == "" and bool(self.input_tokens + self.output_tokens))
        return cost_text(self.cost, unpriced=unpriced)

    @property
    def input_preview(self) -> str:
        return self._preview(self.input_head, self.input_size)

    @property
    def output_preview(self) -> str:
        return self._preview(self.output_head, self.output_size)

    @staticmethod
    def _preview(head: bytes | memoryview | None, size: int) -> str:
        # input_head / output_head are annotations (selectors.stage_runs_with_previews); without them
        # the attribute lookup fails loudly rather than showing an empty preview.
        return preview_from_compressed_head(head, size=size, limit=settings.OPS_PREVIEW_CHARS)


SMALL_PAYLOAD_BYTES = 64 * 1024


class StagePayload(models.Model):
    """The full input and output of a stage run, loaded only when asked for.

    Stored as zlib-compressed JSON text: payloads are always read whole (or their
    head, for previews), never queried inside, and compression cuts both the
    disk footprint and the server-side cost of ingesting megabytes of jsonb.
    PostgreSQL keeps the columns ``EXTERNAL`` (migration 0010): it would fail
    to compress them again anyway, and uncompressed TOAST lets ``SUBSTRING``
    read only a payload's head. Read through ``input`` and ``output``.
    """

    stage_run = models.OneToOneField(StageRun, on_delete=models.CASCADE, primary_key=True, related_name="payload")
    input_data = models.BinaryField()
    output_data = models.BinaryField()

    def __str__(self) -> str:
        return f"payload of {self.stage_run_id}"

    @staticmethod
    def encode(json_bytes: bytes) -> bytes:
        # Level 6 on the common small payloads (~15 % fewer bytes than level 1 on typical stage JSON, tens of
        # microseconds each); level 1 above 64 KB, where level 6 would cost several times the CPU for little.
        return zlib.compress(json_bytes, 6 if len(json_bytes) <= SMALL_PAYLOAD_BYTES else 1)

    @staticmethod
    def decode(data: bytes | memoryview) -> dict[str, Any]:
        # orjson wrote these bytes (services/payloads.py canonical_json); it reads them ~3x faster than json.
        return orjson.loads(zlib.decompress(data))

    @property
    def input(self) -> dict[str, Any]:
        return self.decode(self.input_data)

    @property
    def output(self) -> dict[str, Any]:
        return self.decode(self.output_data)


class TraceAssetUsage(models.Model):
    """One row of a trace's asset bill of materials.

    ``stage`` is empty for trace-level entries. ``asset_version`` links to the
    registry when the named version exists there; the denormalised name and
    number keep the row meaningful for traces from elsewhere.
    """

    # Indexed by usage_trace_idx (Meta), named so that migrations can say what they drop and add.
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="asset_usages", db_index=False)
    stage = models.CharField(max_length=16, blank=True, default="")
    asset_type = models.CharField(max_length=16)
    asset_name = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    version_status = models.CharField(max_length=16, blank=True, default="")
    # No index of its own: usage_version_trace_idx starts with it.
    asset_version = models.ForeignKey(
        "inspector.AssetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="usages",
        db_index=False,
    )
    # Copied from the trace (trace-level rows) or the stage's final attempt
    # (stage rows) at ingest, so per-version impact figures aggregate one
    # narrow indexed table instead of joining traces and stage runs.
    started_at = models.DateTimeField(null=True, blank=True)
    tenant_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    result_empty = models.BooleanField(default=False)
    replanned = models.BooleanField(default=False)
    references_count = models.PositiveIntegerField(default=0)
    rows_count = models.PositiveIntegerField(default=0)
    # Tokens and known cost: the trace's (trace-level rows) or the stage's, all its attempts (stage rows).
    tokens = models.PositiveIntegerField(default=0)
    cost = models.FloatField(default=0.0)
    # The trace's test mode: impact counts production traffic only unless asked, and
    # reads it from the covering index instead of excluding test-mode traces by id.
    test_mode = models.BooleanField(default=False)

    class Meta:
        ordering = ["trace_id", "asset_type", "stage"]
        # No unique constraint on (trace, stage, type, name, version): ingest builds the rows from a
        # dict keyed by exactly that (trace_rows._usage_rows), and its index cost 588 bytes a trace
        # against ~100 for this one (equal keys are deduplicated: a trace's ten rows share one entry).
        indexes = [
            models.Index(fields=["trace"], name="usage_trace_idx"),
            models.Index(fields=["asset_type", "asset_name", "version"], name="usage_name_version_idx"),
            models.Index(fields=["asset_version", "trace"], name="usage_version_trace_idx"),
            # Covering index (PostgreSQL INCLUDE): impact figures are read from the index alone.
            models.Index(fields=["asset_version", "stage", "started_at"], name="usage_version_stage_time_idx",
                         include=["status", "duration_ms", "result_empty", "replanned", "references_count",
                                  "rows_count", "tenant_id", "test_mode", "tokens", "cost"]),
        ]

    def __str__(self) -> str:
        return f"{self.trace_id} {self.asset_type}:{self.asset_name}@{self.version}"
