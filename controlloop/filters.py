import django_filters

from controlloop.contracts import DECISIONS, SEVERITIES, TRIGGER_TYPES
from controlloop.models import ReplanEvent
from inspector.filters import StrictBooleanFilter, UtcIsoDateTimeFilter


class ReplanEventFilter(django_filters.FilterSet):
    trace = django_filters.CharFilter(field_name="trace_id")
    tenant = django_filters.CharFilter(field_name="tenant_id", help_text="Trace ids are unique per tenant.")
    trigger_type = django_filters.MultipleChoiceFilter(choices=[(t, t) for t in TRIGGER_TYPES])
    severity = django_filters.MultipleChoiceFilter(choices=[(s, s) for s in SEVERITIES])
    decision = django_filters.MultipleChoiceFilter(choices=[(d, d) for d in DECISIONS])
    kind = django_filters.ChoiceFilter(choices=ReplanEvent.Kind.choices)
    approved = StrictBooleanFilter()
    isolated = StrictBooleanFilter(
        help_text="true: decided inside test-mode runs against a snapshot; false: live traffic, what breakers count.")

    class Meta:
        model = ReplanEvent
        fields = ["trace", "tenant", "trigger_type", "severity", "decision", "kind", "approved", "isolated"]


ReplanEventFilter.base_filters["from"] = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
ReplanEventFilter.base_filters["to"] = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
