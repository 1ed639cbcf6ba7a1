"""Answers of the regression API: output only, snake_case, no null (an unset value's key is left out).

Bodies are validated by ``regression/contracts.py``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inspector.serializers import (
    DiffTruncationSerializer,
    OptionalCharField,
    OptionalDateTimeField,
    OptionalFloatField,
    OptionalIntegerField,
    OptionalJSONField,
    OptionalUUIDField,
)
from kernel.contracts import Contract
from regression.engine import Issue, StageResult
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun, WorkStatus


class AnalysisAcceptedSerializer(serializers.Serializer):
    """The 202 of ``POST /inspector/regression/analyze``: the pending analysis and where to poll it."""

    analysis_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=WorkStatus.choices, help_text="pending, or completed when run eagerly.")
    url = serializers.CharField(help_text="GET it for the analysis: /inspector/regression/{analysis_id}.")


class RegressionIssueSerializer(serializers.Serializer):
    """One finding of the engine (``regression.engine.Issue``)."""

    stage = serializers.CharField()
    pointer = serializers.CharField(help_text="RFC 6901 pointer into the stage output; empty for the whole stage.")
    kind = serializers.CharField()
    baseline = OptionalJSONField(help_text="The baseline's value; absent when it has none (e.g. output_added).")
    candidate = OptionalJSONField(help_text="The candidate's value; absent when it has none (e.g. stage_missing).")
    message = serializers.CharField()
    penalty = serializers.IntegerField(min_value=0)
    critical = serializers.BooleanField()


class DurationDeltaSerializer(serializers.Serializer):
    baseline = serializers.IntegerField()
    candidate = serializers.IntegerField()
    delta_ms = serializers.IntegerField()
    delta_pct = OptionalFloatField(help_text="Absent when the baseline took 0 ms.")


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


class StatisticsRowSerializer(serializers.Serializer):
    """One metric of a group analysis, formatted like benchstat (``regression.statistics``)."""

    name = serializers.CharField(help_text="Stage and metric, e.g. execute duration_ms.")
    baseline = serializers.CharField()
    candidate = serializers.CharField()
    delta = serializers.CharField()
    p = serializers.CharField(help_text="The Holm-adjusted p-value and the sample sizes.")
    note = serializers.CharField(allow_blank=True)


class GroupStatisticsSerializer(serializers.Serializer):
    """A group analysis's statistics; an empty object for a pair analysis."""

    table = StatisticsRowSerializer(many=True, required=False)
    text = serializers.CharField(required=False, help_text="The table as aligned text, with its notes.")
    insufficient = serializers.BooleanField(required=False, help_text="A side had too few runs to test.")
    inconclusive = serializers.BooleanField(required=False)
    regressions = serializers.ListField(child=serializers.CharField(), required=False,
                                        help_text="Statistically significant regressions: stage and metric.")


def _stored(contract: type[Contract], rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Stored engine results read through their contract.

    An analysis stored before a key was added reads with its default; a value
    the result does not have (an issue's missing side) is left out, not null.
    """
    return [contract.model_validate(row).model_dump(mode="json", exclude_none=True) for row in rows or []]


class AnalysisSerializer(serializers.ModelSerializer):
    analysis_id = serializers.UUIDField(source="id", read_only=True)
    score = OptionalIntegerField(help_text="0-100, 0: no regression; absent until scored.")
    baseline_trace_ids = serializers.ListField(child=serializers.CharField(), read_only=True)
    candidate_trace_ids = serializers.ListField(child=serializers.CharField(), read_only=True)
    options = serializers.DictField(read_only=True, help_text="Scoring overrides (docs/regression-scoring.md).")
    critical_issues = serializers.SerializerMethodField(help_text="The critical issues of every stage.")
    stage_results = serializers.SerializerMethodField(help_text="Per stage: its score, issues, deltas and diff.")
    statistics = GroupStatisticsSerializer(read_only=True)
    notes = serializers.ListField(child=serializers.CharField(), read_only=True)
    started_at = OptionalDateTimeField(help_text="When a worker claimed it (the reaper's clock); absent until then.")
    finished_at = OptionalDateTimeField(help_text="Absent until the analysis is completed or failed.")

    class Meta:
        model = RegressionAnalysis
        fields = ["analysis_id", "kind", "status", "score", "verdict", "baseline_trace_ids", "candidate_trace_ids",
                  "options", "critical_issues", "stage_results", "statistics", "notes", "error_message",
                  "attempts", "created_at", "started_at", "finished_at"]

    @extend_schema_field(RegressionIssueSerializer(many=True))
    def get_critical_issues(self, analysis: RegressionAnalysis) -> list[dict[str, Any]]:
        return RegressionIssueSerializer(_stored(Issue, analysis.critical_issues), many=True).data

    @extend_schema_field(StageCompareResultSerializer(many=True))
    def get_stage_results(self, analysis: RegressionAnalysis) -> list[dict[str, Any]]:
        return StageCompareResultSerializer(_stored(StageResult, analysis.stage_results), many=True).data


class BaselineSerializer(serializers.ModelSerializer):
    trace_id = serializers.CharField(source="trace.trace_id", read_only=True)

    class Meta:
        model = Baseline
        fields = ["id", "trace_id", "note", "created_at"]


class GoldenQuerySerializer(serializers.ModelSerializer):
    """A golden query as answered (output only: bodies are ``regression.contracts.GoldenQueryIn``/``Patch``)."""

    baseline_trace_id = OptionalCharField(source="current_baseline.trace.trace_id",
                                          help_text="The current baseline's trace; absent until one is set.")
    options = serializers.DictField(read_only=True, help_text="Scoring overrides for this query's analyses.")

    class Meta:
        model = GoldenQuery
        fields = ["id", "name", "question", "tenant_id", "options", "enabled", "baseline_trace_id", "created_at"]
        read_only_fields = fields


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
