"""Answers of the golden-suite API: output only, snake_case, no null (an unset value's key is left out).

Bodies are validated by ``regression/suite_contracts.py``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inspector.serializers import OptionalDateTimeField, OptionalIntegerField, OptionalUUIDField
from regression.models import Verdict, WorkStatus
from regression.suite_models import GoldenSuite, SuiteItem, SuiteRun


class _VerdictField(serializers.ChoiceField):
    """A verdict, left out while it is still empty (not yet decided)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=Verdict.choices, required=False, **kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        if not value:
            raise serializers.SkipField
        return value


class SuiteSerializer(serializers.ModelSerializer):
    item_count = serializers.IntegerField(read_only=True, help_text="How many items the suite has.")
    options = serializers.DictField(read_only=True, help_text="Scoring overrides for this suite's analyses.")

    class Meta:
        model = GoldenSuite
        fields = ["id", "name", "tenant_id", "description", "repeats", "options", "enabled", "schedule",
                  "item_count", "created_at"]
        read_only_fields = fields


# kind and trigger as plain strings: their enums would clash by field name with the golden queries' and
# analyses' (drf-spectacular names enums after the field; settings.ENUM_NAME_OVERRIDES could tell them apart).
KIND = "question or stage."
TRIGGERS = "manual, schedule, asset_publish, gate or baseline (a baseline recording)."


class SuiteItemSerializer(serializers.ModelSerializer):
    suite_id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text=KIND)
    assertions = serializers.ListField(child=serializers.DictField(), read_only=True,
                                       help_text="Expected-output checks, as stored (docs/regression.md).")
    baseline_trace_ids = serializers.ListField(child=serializers.CharField(), read_only=True,
                                               help_text="The recorded baseline group; empty until recorded.")

    class Meta:
        model = SuiteItem
        fields = ["id", "suite_id", "name", "kind", "question", "stage", "trace_id", "assertions",
                  "baseline_trace_ids", "position"]
        read_only_fields = fields


class SuiteRunAcceptedSerializer(serializers.Serializer):
    """The 202 of starting a suite run or recording its baseline: the run and where to poll it."""

    run_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=WorkStatus.choices, help_text="pending, or finished when run eagerly.")
    url = serializers.CharField(help_text="GET it for progress and the verdict table: /inspector/regression/suite-runs/{run_id}.")


class SuiteRunSerializer(serializers.ModelSerializer):
    suite_id = serializers.IntegerField(read_only=True)
    suite = serializers.CharField(source="suite.name", read_only=True)
    tenant_id = serializers.CharField(source="suite.tenant_id", read_only=True)
    trigger = serializers.CharField(read_only=True, help_text=TRIGGERS)
    overrides = serializers.DictField(child=serializers.CharField(), read_only=True)
    verdict = _VerdictField(help_text="The worst item verdict; absent until the run is finished.")
    score = OptionalIntegerField(help_text="0-100, 0: no regression (the highest item score); absent until scored.")
    progress = serializers.IntegerField(read_only=True, help_text="Items finished so far.")
    started_at = OptionalDateTimeField(help_text="Absent until a worker took the run.")
    finished_at = OptionalDateTimeField(help_text="Absent until the run is completed or failed.")

    class Meta:
        model = SuiteRun
        fields = ["id", "suite_id", "suite", "tenant_id", "trigger", "overrides", "status", "verdict", "score",
                  "progress", "error_message", "created_at", "started_at", "finished_at"]
        read_only_fields = fields


class FailedAssertionSerializer(serializers.Serializer):
    repeat = serializers.IntegerField(min_value=1, help_text="Which repeat (1…k) failed it.")
    trace_id = serializers.CharField(help_text="That repeat's candidate trace.")
    index = serializers.IntegerField(min_value=0, help_text="The assertion's position in the item's list.")
    stage = serializers.CharField()
    pointer = serializers.CharField(allow_blank=True)
    op = serializers.CharField()
    message = serializers.CharField(help_text="Names the pointer, what was expected and what was found.")


class StageVerdictSerializer(serializers.Serializer):
    # Not the StageEnum: an analysis may also have a "trace" row (whole-trace findings such as the total duration).
    stage = serializers.CharField(help_text="A pipeline stage, or trace for findings about the whole trace.")
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    score = serializers.IntegerField(min_value=0, max_value=100)


class SuiteItemResultSerializer(serializers.Serializer):
    """One row of the verdict table: an item in this run (no verdict yet while it has not run)."""

    item_id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=KIND)
    verdict = _VerdictField(help_text="Its analysis's verdict, FAIL when a repeat failed an assertion; "
                                      "absent until the item has run.")
    score = OptionalIntegerField(help_text="Its analysis's score; absent for a baseline recording or until scored.")
    passes = serializers.IntegerField(min_value=0, help_text="Repeats that passed every assertion.")
    repeats = serializers.IntegerField(min_value=0)
    pass_all = serializers.BooleanField(help_text="pass^k: all k repeats passed and the verdict is not FAIL.")
    failed_assertions = FailedAssertionSerializer(many=True)
    stages = StageVerdictSerializer(many=True, help_text="Per-stage verdicts from the item's analysis.")
    candidate_trace_ids = serializers.ListField(child=serializers.CharField())
    baseline_trace_ids = serializers.ListField(child=serializers.CharField(),
                                               help_text="The baseline group the candidates were compared with.")
    analysis_id = OptionalUUIDField(help_text="The item's GROUP analysis; absent for a baseline recording.")


class SuiteRunDetailSerializer(SuiteRunSerializer):
    """A suite run with its verdict table: one row per item of the suite."""

    # The rows (``suite_selectors.suite_run_table``) come in the context: the view reads them, not this class.

    items = serializers.SerializerMethodField(help_text="One row per item of the suite, in order.")

    class Meta(SuiteRunSerializer.Meta):
        fields = [*SuiteRunSerializer.Meta.fields, "items"]
        read_only_fields = fields

    @extend_schema_field(SuiteItemResultSerializer(many=True))
    def get_items(self, run: SuiteRun) -> list[dict]:
        return SuiteItemResultSerializer(self.context["rows"], many=True).data
