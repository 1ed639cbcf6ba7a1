"""The impact report's JSON (``GET /asset-registry/assets/{id}/impact`` and ``?export=json``).

The report (``report.asset_impact``) is plain data in which a figure that
does not exist is None (a version without traces has no median, an axis
without analyses no score). The API never answers null: such a figure's key
is left out, and the schema marks it optional. Every other key is always
there, and every key is snake_case (verdict counts are ``pass``, ``warn``,
``fail``).
"""

from __future__ import annotations

from rest_framework import serializers

from impact.risk import AXIS_FORMULAS, RISK_LEVEL_NAMES, VERDICTS
from inspector.models import AssetVersion


class OmitMissing(serializers.Serializer):
    """A serializer that leaves out an optional (``required=False``) field whose value is None.

    A required field stays, None or not, so a null where the schema promises
    a value fails the API tests instead of being hidden.
    """

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if value is not None or self.fields[key].required}


def _optional_float(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(required=False, help_text=help_text)


class ImpactAssetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    name = serializers.CharField()
    tenant = serializers.CharField(allow_blank=True)


class ImpactFiltersSerializer(OmitMissing):
    """The filters the report was computed with; an open bound is left out."""

    to = serializers.DateTimeField(required=False, help_text="End of the range; left out when open.")
    tenant = serializers.CharField(allow_blank=True, help_text="The tenant asked for; empty for every readable one.")
    include_test_mode = serializers.BooleanField()

    def get_fields(self):
        # "from" is a Python keyword: it cannot be a class attribute.
        fields = super().get_fields()
        return {"from": serializers.DateTimeField(required=False, help_text="Start of the range; left out when open."),
                **fields}


class ImpactVersionSerializer(OmitMissing):
    """One version of the asset with its times and its traffic in the report's range."""

    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AssetVersion.Status.choices)
    note = serializers.CharField(allow_blank=True)
    author = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()
    published = serializers.DateTimeField(required=False, help_text="Left out when never published.")
    traces = serializers.IntegerField(help_text="Traces that applied the version in the report's range.")
    first_used = serializers.DateTimeField(required=False, help_text="First of those traces; left out without any.")
    last_used = serializers.DateTimeField(required=False, help_text="Last of those traces; left out without any.")


class ImpactAxisFormulasSerializer(serializers.Serializer):
    def get_fields(self):
        return {axis: serializers.CharField() for axis in AXIS_FORMULAS}


class ImpactAxesSerializer(OmitMissing):
    """Six 0..100 scores; an axis without its input (no analysis, no timing) is left out."""

    def get_fields(self):
        return {axis: _optional_float() for axis in AXIS_FORMULAS}


class ImpactRollupSerializer(OmitMissing):
    """Which days were read from the daily roll-up (their percentiles are approximate)."""

    rolled_days = serializers.IntegerField()
    through = serializers.DateField(required=False, help_text="Last rolled day; left out when none is rolled.")
    percentiles_approximate = serializers.BooleanField()


class ImpactVerdictsSerializer(serializers.Serializer):
    def get_fields(self):
        return {verdict: serializers.IntegerField() for verdict in VERDICTS}


class ImpactStageFiguresSerializer(OmitMissing):
    """A consuming stage's final attempts: median and p95 duration, runs."""

    median_ms = _optional_float("Left out when the stage did not run.")
    p95_ms = _optional_float("Left out when the stage did not run.")
    runs = serializers.IntegerField()


class ImpactVersionMetricsSerializer(OmitMissing):
    """One version's figures; rates are fractions in 0..1, a figure without input is left out."""

    version = serializers.IntegerField()
    traces = serializers.IntegerField()
    first_used = serializers.DateTimeField(required=False)
    last_used = serializers.DateTimeField(required=False)
    success_rate = serializers.FloatField()
    warning_rate = serializers.FloatField()
    error_rate = serializers.FloatField()
    empty_rate = serializers.FloatField()
    replan_rate = serializers.FloatField()
    errors = serializers.IntegerField()
    empties = serializers.IntegerField()
    duration_median_ms = _optional_float()
    duration_p95_ms = _optional_float()
    mean_references = _optional_float()
    mean_rows = _optional_float()
    mean_cost = _optional_float("Known cost per trace, in the price table's currency.")
    mean_tokens = _optional_float("Input and output tokens per trace.")
    verdicts = ImpactVerdictsSerializer()
    stage_durations = serializers.DictField(child=ImpactStageFiguresSerializer(),
                                            help_text="Per consuming stage (its name is the key).")


class ImpactMetricsSerializer(serializers.Serializer):
    base = ImpactVersionMetricsSerializer()
    target = ImpactVersionMetricsSerializer()


class ImpactComparisonRowSerializer(OmitMissing):
    """One metric, base against target, with its significance test where one applies."""

    metric = serializers.CharField(help_text="The metric's key, e.g. error_rate or stage:execute:median_ms.")
    label = serializers.CharField(help_text="Its readable name, e.g. Error rate or EXECUTE median (ms).")
    base = _optional_float()
    target = _optional_float()
    delta = _optional_float("target − base; left out when either is missing.")
    delta_pct = _optional_float("100 × delta / base; left out when base is 0 or missing.")
    direction = serializers.ChoiceField(choices=["up", "down", "same"])
    worse = serializers.BooleanField()
    test = serializers.ChoiceField(choices=["fisher", "mann_whitney"], allow_blank=True,
                                   help_text="Empty when no test applies or too few traces.")
    p_value = _optional_float("Left out when not tested.")
    significant = serializers.BooleanField()
    hint = serializers.CharField(allow_blank=True)


class ImpactAxesPairSerializer(serializers.Serializer):
    base = ImpactAxesSerializer()
    target = ImpactAxesSerializer()


class ImpactRiskSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=RISK_LEVEL_NAMES, help_text=(
        "low, medium or high; not_enough_data with fewer than 20 traces on a version; nothing_to_compare "
        "when base and target are one version or one has no traces."))
    label = serializers.CharField(help_text='What a person reads, e.g. "not enough data: 18 of 20 traces per '
                                            'version".')
    points = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class ImpactTrafficSerializer(serializers.Serializer):
    target_traces = serializers.IntegerField()
    all_traces = serializers.IntegerField()


class ImpactRelatedSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class ImpactReportSerializer(OmitMissing):
    """An asset's impact report; the comparison's keys are left out when no trace applied the asset (``empty``)."""

    asset = ImpactAssetSerializer()
    filters = ImpactFiltersSerializer()
    traffic_scope = serializers.CharField()
    versions = ImpactVersionSerializer(many=True)
    axis_formulas = ImpactAxisFormulasSerializer()
    rollup = ImpactRollupSerializer()
    empty = serializers.BooleanField()
    message = serializers.CharField(required=False, help_text="Why there is nothing to compare (when empty).")
    base = serializers.IntegerField(required=False)
    target = serializers.IntegerField(required=False)
    stages = serializers.ListField(child=serializers.CharField(), required=False)
    budget_ms = serializers.FloatField(required=False)
    metrics = ImpactMetricsSerializer(required=False)
    comparison = ImpactComparisonRowSerializer(many=True, required=False)
    axes = ImpactAxesPairSerializer(required=False)
    risk = ImpactRiskSerializer(required=False)
    traffic = ImpactTrafficSerializer(required=False)
    related = ImpactRelatedSerializer(many=True, required=False)
    recommendations = serializers.ListField(child=serializers.CharField(), required=False)
