"""The tenants' span-name rules (editable) and the span buffer (read-only)."""

from django.contrib import admin

from access.admin_scoping import TenantScopedAdmin
from inspector.admin.read_only import ReadOnlyAdminMixin
from otlp.models import BufferedSpan, SpanStageRule


@admin.register(SpanStageRule)
class SpanStageRuleAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ["pattern", "stage", "tenant_id", "position", "note"]
    list_filter = ["stage"]
    search_fields = ["pattern"]


@admin.register(BufferedSpan)
class BufferedSpanAdmin(TenantScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["trace_hex", "span_id", "tenant_id", "received_at"]
    search_fields = ["=trace_hex"]
    show_full_result_count = False
