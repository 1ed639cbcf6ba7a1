"""Serializers for policies, decisions and replan events."""

from __future__ import annotations

from rest_framework import serializers

from controlloop.contracts import DECISIONS, SEVERITIES, STAGE_SCOPES, TRIGGER_TYPES, VETOES
from controlloop.models import ReplanEvent, ReplanPolicy
from inspector.serializers import OptionalBooleanField, OptionalIntegerField


class ReplanPolicySerializer(serializers.ModelSerializer):
    """A policy as answered (output only: bodies are ``controlloop.requests.ReplanPolicyIn``/``Patch``)."""

    allowed_triggers = serializers.ListField(child=serializers.ChoiceField(choices=TRIGGER_TYPES), read_only=True)

    class Meta:
        model = ReplanPolicy
        fields = ["id", "name", "tenant_id", "is_default", "max_replans", "allowed_triggers", "min_severity",
                  "min_interval_seconds", "cooling_period_seconds", "rules", "breaker_window",
                  "breaker_min_samples", "breaker_failure_ratio", "breaker_cooldown_seconds", "version", "created_at",
                  "updated_at"]
        read_only_fields = fields


class PatchDiffSerializer(serializers.Serializer):
    before = serializers.DictField(help_text="The plan before the patch.")
    after = serializers.DictField(help_text="The plan after the patch (the same when nothing changes).")
    json_patch = serializers.ListField(child=serializers.DictField(), help_text="RFC 6902 operations, before → after.")


class DecisionSerializer(serializers.Serializer):
    """The 201 of ``POST /controlloop/decide``: the recorded events' ids and the decision with its patch."""

    event_id = serializers.IntegerField(help_text="The decision event.")
    request_event_id = serializers.IntegerField(help_text="The request event.")
    approved = serializers.BooleanField()
    decision = serializers.ChoiceField(choices=DECISIONS)
    reason = serializers.CharField(allow_blank=True)
    veto = serializers.ChoiceField(choices=VETOES, allow_blank=True, help_text="Empty when nothing vetoed.")
    attempt = serializers.IntegerField(min_value=0, help_text="The replan number this would be (1 for the first).")
    max_attempts = serializers.IntegerField(min_value=0)
    scope = serializers.ChoiceField(choices=STAGE_SCOPES)
    guidance = serializers.CharField(allow_blank=True)
    trigger = serializers.ChoiceField(choices=TRIGGER_TYPES, help_text="The parsed trigger's type.")
    severity = serializers.ChoiceField(choices=SEVERITIES)
    patch = PatchDiffSerializer()


class ReplanEventSerializer(serializers.ModelSerializer):
    """A replan event; a value the event's kind does not have is left out, not null."""

    policy = serializers.CharField(source="policy.name", default="", read_only=True)
    request_id = OptionalIntegerField(help_text="The request event a decision or execution follows; absent on a "
                                                "request.")
    approved = OptionalBooleanField(help_text="Whether the replan was approved (an execution's always was); absent "
                                              "on a request, which nothing has decided yet.")

    class Meta:
        model = ReplanEvent
        fields = ["id", "kind", "trace_id", "tenant_id", "policy", "request_id", "trigger_type", "stage_name",
                  "severity", "trigger_reason", "trigger_raw", "decision", "approved", "veto", "reason", "attempt",
                  "max_attempts", "scope", "patch_before", "patch_after", "json_patch", "outcome", "policy_version",
                  "breaker_state", "isolated", "created_at"]
