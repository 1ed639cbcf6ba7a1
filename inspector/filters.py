"""FilterSets for the trace list and the asset registry."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django_filters.fields import IsoDateTimeField

from inspector.contracts import ASSET_TYPES
from inspector.models import Asset, Trace, TraceAssetUsage
from inspector.models.traces import Route, TraceStatus
from inspector.params import is_natural
from inspector.timeparse import to_utc


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, read in UTC; a time UTC puts outside the calendar is invalid (400)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return to_utc(moment)
        except ValueError as exc:
            raise ValidationError("Enter a date and time within the calendar.", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """``from``/``to`` filters of the API's lists (PostgreSQL refuses offsets beyond ±15:59)."""

    field_class = UtcIsoDateTimeField


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``); anything else is a 400, not a filter silently dropped."""

    widget = forms.TextInput  # NullBooleanSelect would turn an unknown value into "no filter" before to_python

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValidationError("Enter true or false.", code="invalid")

    def validate(self, value):
        return None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class TraceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", help_text="Text in the question, or an exact trace id.")
    tenant = django_filters.CharFilter(field_name="tenant_id")
    session_id = django_filters.CharFilter(help_text="The traces of one session (conversation), exactly.")
    status = django_filters.ChoiceFilter(choices=TraceStatus.choices)
    route = django_filters.ChoiceFilter(choices=Route.choices)
    test_mode = StrictBooleanFilter()
    asset = django_filters.CharFilter(
        method="filter_asset",
        help_text="Traces that applied an asset: 'name', 'name@version', 'type:name' or 'type:name@version'.",
    )
    has_replan = StrictBooleanFilter(method="filter_has_replan")
    cost_min = django_filters.NumberFilter(field_name="cost", lookup_expr="gte",
                                           help_text="Traces whose known cost is at least this (price table currency).")
    cost_max = django_filters.NumberFilter(field_name="cost", lookup_expr="lte",
                                           help_text="Traces whose known cost is at most this.")
    tokens_min = django_filters.NumberFilter(method="filter_tokens_min",
                                             help_text="Traces that used at least this many tokens (input + output).")

    class Meta:
        model = Trace
        fields = ["q", "tenant", "session_id", "status", "route", "test_mode", "asset", "has_replan", "cost_min",
                  "cost_max", "tokens_min"]

    def filter_tokens_min(self, queryset: QuerySet[Trace], name: str, value) -> QuerySet[Trace]:
        return queryset.alias(tokens=F("input_tokens") + F("output_tokens")).filter(tokens__gte=value)

    def filter_q(self, queryset: QuerySet[Trace], name: str, value: str) -> QuerySet[Trace]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(question__icontains=value) | Q(trace_id=value))

    def filter_asset(self, queryset: QuerySet[Trace], name: str, value: str) -> QuerySet[Trace]:
        asset_type, _, rest = value.rpartition(":")
        asset_name, _, version = rest.partition("@")
        usage = TraceAssetUsage.objects.filter(trace=OuterRef("pk"), asset_name=asset_name)
        if asset_type:
            if asset_type not in ASSET_TYPES:
                return queryset.none()
            usage = usage.filter(asset_type=asset_type)
        if version:
            if not is_natural(version):
                return queryset.none()
            usage = usage.filter(version=int(version))
        return queryset.filter(Exists(usage))

    def filter_has_replan(self, queryset: QuerySet[Trace], name: str, value: bool | None) -> QuerySet[Trace]:
        if value is None:
            return queryset
        return queryset.filter(replan_count__gt=0) if value else queryset.filter(replan_count=0)


# ``from``/``to`` are the public parameter names; ``from`` is a Python keyword.
TraceFilter.base_filters["from"] = UtcIsoDateTimeFilter(
    field_name="started_at", lookup_expr="gte", help_text="Started at or after (ISO 8601)."
)
TraceFilter.base_filters["to"] = UtcIsoDateTimeFilter(
    field_name="started_at", lookup_expr="lte", help_text="Started at or before (ISO 8601)."
)


class AssetFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(field_name="asset_type", choices=[(t, t) for t in ASSET_TYPES])
    name = django_filters.CharFilter(field_name="name")
    tenant = django_filters.CharFilter(field_name="tenant_id")
    q = django_filters.CharFilter(method="filter_q", help_text="Text in the name or description.")

    class Meta:
        model = Asset
        fields = ["type", "name", "tenant", "q"]

    def filter_q(self, queryset: QuerySet[Asset], name: str, value: str) -> QuerySet[Asset]:
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
