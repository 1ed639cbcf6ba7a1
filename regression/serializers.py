from __future__ import annotations

from rest_framework import serializers

from inspector.serializers import (
    DiffTruncationSerializer,
    OptionalCharField,
    OptionalDateTimeField,
    OptionalIntegerField,
    OptionalUUIDField,
)
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun, WorkStatus


class AnalysisAcceptedSerializer(serializers.Serializer):
    """The 202 of ``POST /inspector/regression/analyze``: the pending analysis and where to poll it."""

    analysis_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=WorkStatus.choices, help_text="pending, or completed when run eagerly.")
    url = serializers.CharField(help_text="GET it for the analysis: /inspector/regression/{analysis_id}.")


class AnalysisSerializer(serializers.ModelSerializer):
    analysis_id = serializers.UUIDField(source="id", read_only=True)

    class Meta:
        model = RegressionAnalysis
        fields = ["analysis_id", "kind", "status", "score", "verdict", "baseline_trace_ids", "candidate_trace_ids",
                  "options", "critical_issues", "stage_results", "statistics", "notes", "error_message",
                  "attempts", "created_at", "started_at", "finished_at"]


class RegressionIssueSerializer(serializers.Serializer):
    """One finding of the engine (``regression.engine.Issue``)."""

    stage = serializers.CharField()
    pointer = serializers.CharField(help_text="RFC 6901 pointer into the stage output; empty for the whole stage.")
    kind = serializers.CharField()
    baseline = serializers.JSONField(required=False, help_text="The baseline's value; absent when it has none.")
    candidate = serializers.JSONField(required=False, help_text="The candidate's value; absent when it has none.")
    message = serializers.CharField()
    penalty = serializers.IntegerField(min_value=0)
    critical = serializers.BooleanField()


class DurationDeltaSerializer(serializers.Serializer):
    baseline = serializers.IntegerField()
    candidate = serializers.IntegerField()
    delta_ms = serializers.IntegerField()
    delta_pct = serializers.FloatField(required=False, help_text="Absent when the baseline took 0 ms.")


class CountDeltaSerializer(serializers.Serializer):
    baseline = serializers.IntegerField()
    candidate = serializers.IntegerField()
    delta = serializers.IntegerField()


class OutputDiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.CharField())
    truncated = DiffTruncationSerializer(many=True, help_text="Lists whose differing items were not all itemised.")


class StageCompareResultSerializer(serializers.Serializer):
    """The 200 of ``POST /inspector/regression/stage-compare``: the engine's ``StageResult``, no nulls."""

    stage = serializers.CharField()
    presence = serializers.ChoiceField(choices=["both", "baseline_only", "candidate_only"])
    score = serializers.IntegerField(min_value=0, max_value=100, help_text="0: no regression.")
    issues = RegressionIssueSerializer(many=True)
    duration = DurationDeltaSerializer()
    counts = serializers.DictField(child=CountDeltaSerializer())
    diff = OutputDiffSerializer()
    noise_ignored = serializers.ListField(child=serializers.CharField())
    improvements = serializers.ListField(child=serializers.CharField())


class BaselineSerializer(serializers.ModelSerializer):
    trace_id = serializers.CharField(source="trace.trace_id", read_only=True)

    class Meta:
        model = Baseline
        fields = ["id", "trace_id", "note", "created_at"]


class GoldenQuerySerializer(serializers.ModelSerializer):
    """A golden query as answered (output only: bodies are ``regression.contracts.GoldenQueryIn``/``Patch``)."""

    baseline_trace_id = serializers.SerializerMethodField()
    options = serializers.DictField(read_only=True, help_text="Scoring overrides for this query's analyses.")

    class Meta:
        model = GoldenQuery
        fields = ["id", "name", "question", "tenant_id", "options", "enabled", "baseline_trace_id", "created_at"]
        read_only_fields = fields

    def get_baseline_trace_id(self, query: GoldenQuery) -> str | None:
        baseline = query.current_baseline
        return baseline.trace.trace_id if baseline else None


class RunSerializer(serializers.ModelSerializer):
    golden_query = serializers.CharField(source="golden_query.name", read_only=True)
    baseline_trace_id = serializers.CharField(source="baseline.trace.trace_id", read_only=True)
    verdict = serializers.CharField(source="analysis.verdict", default="", read_only=True)
    candidate_trace_id = OptionalCharField(source="candidate_trace.trace_id",
                                           help_text="Absent until the run has stored its candidate trace.")
    analysis_id = OptionalUUIDField(help_text="Absent until the run has started its analysis.")
    score = OptionalIntegerField(source="analysis.score", help_text="0-100, 0: no regression; absent until scored.")
    finished_at = OptionalDateTimeField(help_text="Absent until the run is completed or failed.")

    class Meta:
        model = RegressionRun
        fields = ["id", "golden_query", "trigger", "overrides", "status", "baseline_trace_id", "candidate_trace_id",
                  "analysis_id", "verdict", "score", "error_message", "created_at", "finished_at"]
