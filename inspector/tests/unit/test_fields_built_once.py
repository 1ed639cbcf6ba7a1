"""Serializers whose fields are built once per class still give each instance fields of its own."""

from __future__ import annotations

from rest_framework import serializers

from inspector.models import Trace
from inspector.serializers import FieldsBuiltOnce, TraceDetailSerializer, TraceListSerializer


class Counting(FieldsBuiltOnce, serializers.ModelSerializer):
    note = serializers.SerializerMethodField()

    class Meta:
        model = Trace
        fields = ["trace_id", "status", "note"]

    def get_note(self, trace) -> str:
        return f"{trace.trace_id}!"


def _counting_builds(monkeypatch) -> list[int]:
    calls = []
    original = serializers.ModelSerializer.get_fields

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", counted)
    return calls


def test_the_model_is_read_once_per_class_and_each_instance_binds_its_own_fields(monkeypatch):
    calls = _counting_builds(monkeypatch)
    first, second = Counting(), Counting()
    assert first.fields.keys() == second.fields.keys() == {"trace_id", "status", "note"}
    assert len(calls) == 1
    assert first.fields["note"] is not second.fields["note"]
    assert first.fields["note"].parent is first and second.fields["note"].parent is second


def test_answers_are_those_of_a_fresh_build():
    trace = Trace(trace_id="t-1", status="ok", question="q?", tenant_id="acme")
    assert Counting(trace).data == {"trace_id": "t-1", "status": "ok", "note": "t-1!"}
    assert Counting(trace).data == {"trace_id": "t-1", "status": "ok", "note": "t-1!"}


def test_a_subclass_keeps_a_field_set_of_its_own():
    TraceListSerializer().fields  # noqa: B018 - builds the list serializer's set first
    assert "metadata" not in TraceListSerializer().fields
    assert {"metadata", "stages", "asset_usages"} <= set(TraceDetailSerializer().fields)
