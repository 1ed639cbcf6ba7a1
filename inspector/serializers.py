"""Output serializers for the inspector API.

Request bodies are validated by pydantic contracts (``inspector/contracts.py``,
``inspector/asset_contracts.py``), not here: one validation path for the API,
the pipeline and the tests.
"""

from __future__ import annotations

import copy
from urllib.parse import urlencode

from rest_framework import serializers

from inspector.models import Asset, AssetVersion, StageRun, Trace, TraceAssetUsage
from inspector.selectors import TRACE_LIST_FIELDS


def trace_url(trace_id: str, tenant_id: str, tail: str = "", **query) -> str:
    """The API address of a trace (``tail``: e.g. ``/stages/execute``), naming its tenant.

    Trace ids are unique per tenant only; ``?tenant=`` makes the address
    unambiguous for readers of several tenants.
    """
    return f"/inspector/traces/{trace_id}{tail}?{urlencode({**query, 'tenant': tenant_id})}"


class _LeftOutWhenNone:
    """Leaves its key out of the answer while the value is None, so the answer carries no null.

    For output-only serializers. The field is not required, so the schema lists
    it as an optional property (drf-spectacular lists every read-only field as
    required, which an absent key would contradict; inspector/schema.py reads
    ``left_out_when_none``).
    """

    left_out_when_none = True

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, **kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)  # SkipField already when a step of the source is None
        if value is None:
            raise serializers.SkipField
        return value


class OptionalIntegerField(_LeftOutWhenNone, serializers.IntegerField):
    pass


class OptionalCharField(_LeftOutWhenNone, serializers.CharField):
    pass


class OptionalUUIDField(_LeftOutWhenNone, serializers.UUIDField):
    pass


class OptionalDateTimeField(_LeftOutWhenNone, serializers.DateTimeField):
    pass


class OptionalFloatField(_LeftOutWhenNone, serializers.FloatField):
    pass


class OptionalJSONField(_LeftOutWhenNone, serializers.JSONField):
    pass


class OptionalBooleanField(_LeftOutWhenNone, serializers.BooleanField):
    pass


class FieldsBuiltOnce:
    """A ModelSerializer whose field set is built from the model once per class, then copied.

    DRF rebuilds a ModelSerializer's fields from the model's metadata for every
    instance (6.5 % of the served workers' time in issue 17's profile); a deep
    copy of the unbound fields is two to three times cheaper and gives every
    instance fields of its own to bind. Only for serializers whose fields do
    not depend on the instance, the request or the context.
    """

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = super().get_fields()
            cls._fields_prototype = prototype  # on this class only: a subclass builds its own
        return copy.deepcopy(prototype)


class ErrorDetailSerializer(serializers.Serializer):
    """An error answer: ``{"detail": "..."}`` (inspector.api_errors)."""

    detail = serializers.CharField()


class TraceListSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = Trace
        # The columns the list reads (selectors.TRACE_LIST_FIELDS) less the database id.
        fields = [name for name in TRACE_LIST_FIELDS if name != "id"]


class TraceIngestedSerializer(TraceListSerializer):
    """The ingest answer: the trace summary and where to read it (no re-read of stages)."""

    url = serializers.SerializerMethodField()

    class Meta(TraceListSerializer.Meta):
        fields = TraceListSerializer.Meta.fields + ["url"]

    def get_url(self, trace: Trace) -> str:
        return trace_url(trace.trace_id, trace.tenant_id)


class TraceBatchItemSerializer(serializers.Serializer):
    """One item of a batch ingest answer: what happened to the trace at ``index`` of the array."""

    index = serializers.IntegerField(help_text="Position in the sent array, from 0.")
    trace_id = serializers.CharField()
    result = serializers.ChoiceField(choices=["created", "existing"],
                                     help_text="existing: an identical body was stored already (or earlier in the batch).")
    url = serializers.SerializerMethodField()

    def get_url(self, item) -> str:
        return trace_url(item.trace_id, item.tenant_id)


class TraceBatchIngestedSerializer(serializers.Serializer):
    """The batch ingest answer: counts and one result per sent trace, in order."""

    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    results = TraceBatchItemSerializer(many=True)


class StageRunSummarySerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    payload_url = serializers.SerializerMethodField()
    input_truncated = serializers.SerializerMethodField()
    output_truncated = serializers.SerializerMethodField()
    input = OptionalJSONField(source="included_input",
                              help_text="The full stage input; only with ?include=payloads, when it fits the limit.")
    output = OptionalJSONField(source="included_output",
                               help_text="The full stage output; only with ?include=payloads, when it fits the limit.")

    class Meta:
        model = StageRun
        fields = [
            "stage",
            "attempt",
            "sequence",
            "status",
            "started_at",
            "duration_ms",
            "warnings_count",
            "errors_count",
            "references_count",
            "result_empty",
            "diagnostics",
            "applied_assets",
            "input_size",
            "output_size",
            "model",
            "input_tokens",
            "output_tokens",
            "cost",
            "cost_source",
            "input_preview",
            "output_preview",
            "input_truncated",
            "output_truncated",
            "payload_url",
            "input",
            "output",
        ]

    def get_payload_url(self, run: StageRun) -> str:
        return trace_url(run.trace.trace_id, run.trace.tenant_id, f"/stages/{run.stage}", attempt=run.attempt)

    def get_input_truncated(self, run: StageRun) -> bool:
        return len(run.input_preview) < run.input_size and run.input_preview.endswith("…")

    def get_output_truncated(self, run: StageRun) -> bool:
        return len(run.output_preview) < run.output_size and run.output_preview.endswith("…")


class AssetUsageSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    asset_version_id = OptionalIntegerField(help_text="The registry's version row; absent when the trace named a "
                                                      "version the registry does not hold (or no longer does).")

    class Meta:
        model = TraceAssetUsage
        fields = ["stage", "asset_type", "asset_name", "version", "version_status", "asset_version_id"]


class OmittedPayloadSerializer(serializers.Serializer):
    stage = serializers.CharField()
    attempt = serializers.IntegerField()
    size_bytes = serializers.IntegerField(help_text="Input and output JSON bytes: more than the answer had left.")
    payload_url = serializers.SerializerMethodField(help_text="Where to read this stage's payloads alone.")

    def get_payload_url(self, omitted) -> str:
        return trace_url(omitted.trace_id, omitted.tenant_id, f"/stages/{omitted.stage}", attempt=omitted.attempt)


class PayloadInclusionSerializer(_LeftOutWhenNone, serializers.Serializer):
    """What ``?include=payloads`` put in the answer and what it left out (inspector/trace_payloads.py)."""

    limit_bytes = serializers.IntegerField(help_text="OPS_TRACE_PAYLOADS_MAX_BYTES: payload JSON one answer carries.")
    included_bytes = serializers.IntegerField()
    capped = serializers.BooleanField(help_text="True when at least one stage's payloads were left out.")
    omitted = OmittedPayloadSerializer(many=True)


class TraceDetailSerializer(TraceListSerializer):
    stages = StageRunSummarySerializer(source="stage_runs", many=True, read_only=True)
    applied_assets = serializers.SerializerMethodField()
    asset_usages = AssetUsageSerializer(many=True, read_only=True)
    payloads = PayloadInclusionSerializer(source="payload_inclusion", help_text="Only with ?include=payloads.")

    class Meta(TraceListSerializer.Meta):
        fields = TraceListSerializer.Meta.fields + ["metadata", "applied_assets", "asset_usages", "stages", "payloads"]

    def get_applied_assets(self, trace: Trace) -> dict[str, dict]:
        """The trace-level bill of materials: type → name, version, status."""
        return {
            usage.asset_type: {"name": usage.asset_name, "version": usage.version, "status": usage.version_status}
            for usage in trace.asset_usages.all()
            if usage.stage == ""
        }


class StagePayloadSerializer(serializers.ModelSerializer):
    trace_id = serializers.CharField(source="trace.trace_id", read_only=True)
    input = serializers.JSONField(source="payload.input", read_only=True)
    output = serializers.JSONField(source="payload.output", read_only=True)

    class Meta:
        model = StageRun
        fields = [
            "trace_id",
            "stage",
            "attempt",
            "status",
            "started_at",
            "duration_ms",
            "diagnostics",
            "input_size",
            "output_size",
            "input",
            "output",
        ]


class AssetVersionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username", default="", read_only=True)
    copied_from = OptionalIntegerField(source="copied_from.version",
                                       help_text="The version this one copies (a rollback); absent otherwise.")
    published_at = OptionalDateTimeField(help_text="Absent until the version is published.")
    archived_at = OptionalDateTimeField(help_text="Absent until the version is archived.")

    class Meta:
        model = AssetVersion
        fields = [
            "id",
            "version",
            "status",
            "spec",
            "note",
            "author",
            "copied_from",
            "created_at",
            "published_at",
            "archived_at",
        ]
        read_only_fields = fields


class PublishedVersionField(OptionalIntegerField):
    """The number of the asset's published version; left out while it has none.

    Reads the selectors' prefetch (``published``: a list of at most one version) when there is one.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", **kwargs)

    def get_attribute(self, asset: Asset) -> int:
        published = getattr(asset, "published", None)
        version = asset.published_version if published is None else next(iter(published), None)
        if version is None:
            raise serializers.SkipField
        return version.version


class AssetSerializer(serializers.ModelSerializer):
    published_version = PublishedVersionField(help_text="Absent while no version is published.")

    class Meta:
        model = Asset
        fields = [
            "id",
            "tenant_id",
            "asset_type",
            "name",
            "description",
            "published_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class DiffOperationSerializer(serializers.Serializer):
    """One operation of ``inspector.structural_diff.stage_output_diff``."""

    op = serializers.ChoiceField(choices=["add", "remove", "replace"])
    path = serializers.CharField(help_text="RFC 6901 pointer into the candidate; into the baseline for remove.")
    before = OptionalJSONField(help_text="The baseline value; remove and replace only, absent when it is null.")
    after = OptionalJSONField(help_text="The candidate value; add and replace only, absent when it is null.")


class DiffTruncationSerializer(serializers.Serializer):
    """A list compared by position whose differing items were not all itemised."""

    pointer = serializers.CharField()
    positions = serializers.IntegerField(help_text="The longer side's length.")
    differing_items = serializers.IntegerField()
    listed_items = serializers.IntegerField(help_text="The first differing items, itemised as operations.")


class StageOutputDiffSerializer(serializers.Serializer):
    """The structural diff of two stage outputs (diagnostics and volatile keys left out)."""

    changed = serializers.BooleanField()
    operation_count = serializers.IntegerField(help_text="Every operation, also those past the listed ones.")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Per op, only the ops that occur.")
    operations = DiffOperationSerializer(many=True, help_text="Adds, removes, then replaces; at most 500.")
    truncated = DiffTruncationSerializer(many=True)


class SideStatusSerializer(serializers.Serializer):
    baseline = OptionalCharField(help_text="Absent when the stage did not run in the baseline.")
    candidate = OptionalCharField(help_text="Absent when the stage did not run in the candidate.")
    changed = serializers.BooleanField(required=False, help_text="Present when both sides ran the stage.")


class SideDeltaSerializer(serializers.Serializer):
    baseline = OptionalIntegerField()
    candidate = OptionalIntegerField()
    delta = OptionalIntegerField(help_text="Present when both sides ran the stage.")
    percent = OptionalFloatField(help_text="Present when both sides ran the stage and the baseline is not 0.")


class ReplanDecisionSerializer(serializers.Serializer):
    """A replan the control loop decided after an attempt (the trace's ``metadata["replans"]``)."""

    trigger = serializers.CharField(help_text="What asked for the replan, e.g. empty_result.")
    decision = serializers.CharField(help_text="auto_retry, ask_user or stop_with_guidance.")
    approved = serializers.BooleanField()
    veto = serializers.CharField(required=False, help_text="Why it was refused (e.g. breaker_open); absent when not.")
    reason = serializers.CharField(allow_blank=True)


class StageAttemptSerializer(serializers.Serializer):
    """One attempt of a stage in one trace."""

    attempt = serializers.IntegerField()
    status = serializers.CharField()
    duration_ms = serializers.IntegerField()
    empty = serializers.BooleanField(help_text="The attempt set empty_flags.result_empty.")
    replans = ReplanDecisionSerializer(many=True, help_text="Replans decided after this attempt.")


class SideAttemptsSerializer(serializers.Serializer):
    baseline = StageAttemptSerializer(many=True, required=False, help_text="Absent when the baseline did not run the stage.")
    candidate = StageAttemptSerializer(many=True, required=False,
                                       help_text="Absent when the candidate did not run the stage.")


class StageComparisonSerializer(serializers.Serializer):
    """One stage of a trace comparison (``inspector.trace_comparison.stage_row``)."""

    stage = serializers.CharField()
    presence = serializers.ChoiceField(choices=["both", "baseline_only", "candidate_only"])
    status = SideStatusSerializer()
    duration_ms = SideDeltaSerializer()
    counts = serializers.DictField(child=SideDeltaSerializer())
    new_errors = serializers.ListField(child=serializers.CharField(), required=False)
    resolved_errors = serializers.ListField(child=serializers.CharField(), required=False)
    new_warnings = serializers.ListField(child=serializers.CharField(), required=False)
    output_diff = StageOutputDiffSerializer(required=False, help_text="Present when both sides ran the stage.")
    attempts = SideAttemptsSerializer(help_text="Every attempt of both traces, with the replans between them.")
    attempts_changed = serializers.BooleanField(help_text="The two traces ran the stage a different number of times.")


class TraceDiffSerializer(serializers.Serializer):
    baseline = TraceListSerializer()
    candidate = TraceListSerializer()
    stages = StageComparisonSerializer(many=True)


class StageTestBaselineSerializer(serializers.Serializer):
    trace_id = serializers.CharField(required=False, help_text="When the stage was re-run from a trace.")
    question = serializers.CharField(required=False, help_text="When the stage was re-run from a question.")
    stage = serializers.CharField()
    attempt = serializers.IntegerField(required=False, help_text="The recorded attempt, from a trace.")
    applied_assets = serializers.DictField(child=serializers.CharField())


class StageTestResultSerializer(serializers.Serializer):
    stage = serializers.CharField()
    output = serializers.DictField(help_text="The re-run's StageOutput.")
    applied_assets = serializers.DictField(child=serializers.CharField())
    baseline = StageTestBaselineSerializer()
    baseline_output = serializers.DictField(help_text="The baseline StageOutput.")
    diff = StageOutputDiffSerializer()
