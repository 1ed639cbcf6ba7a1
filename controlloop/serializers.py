"""Serializers for policies, decisions and replan events."""

from __future__ import annotations

from rest_framework import serializers

from controlloop.contracts import TRIGGER_TYPES
from controlloop.models import ReplanEvent, ReplanPolicy


class ReplanPolicySerializer(serializers.ModelSerializer):
    """Validated twice: field types here, then the whole policy by its pydantic contract (model.clean)."""

    allowed_triggers = serializers.ListField(child=serializers.ChoiceField(choices=TRIGGER_TYPES), required=False)

    class Meta:
        model = ReplanPolicy
        fields = ["id", "name", "tenant_id", "is_default", "max_replans", "allowed_triggers", "min_severity",
                  "min_interval_seconds", "cooling_period_seconds", "rules", "breaker_window",
                  "breaker_min_samples", "breaker_failure_ratio", "breaker_cooldown_seconds", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"min_interval_seconds": {"min_value": 0}, "cooling_period_seconds": {"min_value": 0},
                        "breaker_failure_ratio": {"min_value": 0.01, "max_value": 1}}

    def validate(self, attrs):
        from django.core.exceptions import ValidationError as DjangoValidationError

        instance = ReplanPolicy(**{**self._current(), **attrs})
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {field: getattr(self.instance, field) for field in self.Meta.fields
                if field not in ("id", "created_at", "updated_at")}


class DecideRequestSerializer(serializers.Serializer):
    trace_id = serializers.CharField(max_length=128)
    tenant_id = serializers.CharField(max_length=64, required=False,
                                      help_text="The trace's tenant, for users of several tenants that each have a "
                                                "trace with this id; without it, the first stored of them.")
    trigger = serializers.JSONField(help_text="A type, 'type stage reason…', a JSON string or an object.")
    plan = serializers.DictField(required=False, default=dict)


class ReplanEventSerializer(serializers.ModelSerializer):
    policy = serializers.CharField(source="policy.name", default="", read_only=True)

    class Meta:
        model = ReplanEvent
        fields = ["id", "kind", "trace_id", "tenant_id", "policy", "request_id", "trigger_type", "stage_name",
                  "severity", "trigger_reason", "trigger_raw", "decision", "approved", "veto", "reason", "attempt",
                  "max_attempts", "scope", "patch_before", "patch_after", "json_patch", "outcome", "created_at"]
