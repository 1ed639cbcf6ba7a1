from __future__ import annotations

from rest_framework import serializers

from inspector.models.traces import StageChoices
from inspector.serializers import OptionalCharField, OptionalDateTimeField, OptionalIntegerField, OptionalUUIDField
from regression.models import Baseline, GoldenQuery, RegressionAnalysis, RegressionRun


class AnalyzeRequestSerializer(serializers.Serializer):
    baseline_trace_id = serializers.CharField(required=False, max_length=128)
    candidate_trace_id = serializers.CharField(required=False, max_length=128)
    baseline_trace_ids = serializers.ListField(child=serializers.CharField(max_length=128), required=False,
                                               allow_empty=False, max_length=200)
    candidate_trace_ids = serializers.ListField(child=serializers.CharField(max_length=128), required=False,
                                                allow_empty=False, max_length=200)
    options = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        single = "baseline_trace_id" in attrs or "candidate_trace_id" in attrs
        group = "baseline_trace_ids" in attrs or "candidate_trace_ids" in attrs
        if single == group:
            raise serializers.ValidationError(
                "give either baseline_trace_id + candidate_trace_id or baseline_trace_ids + candidate_trace_ids")
        if single:
            if not attrs.get("baseline_trace_id") or not attrs.get("candidate_trace_id"):
                raise serializers.ValidationError("baseline_trace_id and candidate_trace_id are both required")
            return {"baseline": [attrs["baseline_trace_id"]], "candidate": [attrs["candidate_trace_id"]],
                    "options": attrs["options"]}
        if not attrs.get("baseline_trace_ids") or not attrs.get("candidate_trace_ids"):
            raise serializers.ValidationError("baseline_trace_ids and candidate_trace_ids are both required")
        return {"baseline": attrs["baseline_trace_ids"], "candidate": attrs["candidate_trace_ids"],
                "options": attrs["options"]}


class AnalysisSerializer(serializers.ModelSerializer):
    analysis_id = serializers.UUIDField(source="id", read_only=True)

    class Meta:
        model = RegressionAnalysis
        fields = ["analysis_id", "kind", "status", "score", "verdict", "baseline_trace_ids", "candidate_trace_ids",
                  "options", "critical_issues", "stage_results", "statistics", "notes", "error_message",
                  "attempts", "created_at", "started_at", "finished_at"]


class StageCompareSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=StageChoices)
    baseline_trace_id = serializers.CharField(required=False, max_length=128)
    candidate_trace_id = serializers.CharField(required=False, max_length=128)
    baseline = serializers.DictField(required=False, help_text="A StageOutput")
    candidate = serializers.DictField(required=False, help_text="A StageOutput")
    options = serializers.DictField(required=False, default=dict)

    def validate(self, attrs):
        by_id = attrs.get("baseline_trace_id") and attrs.get("candidate_trace_id")
        by_body = "baseline" in attrs and "candidate" in attrs
        if bool(by_id) == bool(by_body):
            raise serializers.ValidationError(
                "give baseline_trace_id + candidate_trace_id, or baseline + candidate StageOutput bodies")
        return attrs


class BaselineSerializer(serializers.ModelSerializer):
    trace_id = serializers.CharField(source="trace.trace_id", read_only=True)

    class Meta:
        model = Baseline
        fields = ["id", "trace_id", "note", "created_at"]


class GoldenQuerySerializer(serializers.ModelSerializer):
    baseline_trace_id = serializers.SerializerMethodField()
    options = serializers.DictField(required=False, default=dict,
                                    help_text="Scoring overrides for this query's analyses.")

    class Meta:
        model = GoldenQuery
        fields = ["id", "name", "question", "tenant_id", "options", "enabled", "baseline_trace_id", "created_at"]
        read_only_fields = ["id", "created_at", "baseline_trace_id"]

    def get_baseline_trace_id(self, query: GoldenQuery) -> str | None:
        baseline = query.current_baseline
        return baseline.trace.trace_id if baseline else None

    def validate_options(self, value):
        from regression.engine import ScoringConfig

        try:
            ScoringConfig.from_overrides(value or {})
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class SetBaselineSerializer(serializers.Serializer):
    trace_id = serializers.CharField(max_length=128)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class RunRequestSerializer(serializers.Serializer):
    overrides = serializers.DictField(child=serializers.CharField(), required=False, default=dict)


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
