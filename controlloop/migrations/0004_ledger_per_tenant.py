"""Replan ledger rows name their trace by tenant and id (trace ids are unique per tenant); policy names are unique
per tenant, not across tenants (a name another tenant uses must not be refused, which would reveal it).

Existing ledger rows take the tenant of their trace's replan events, else of
the trace, else ``default``.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce


def _fill_tenants(apps, schema_editor):
    ledger = apps.get_model("controlloop", "ReplanLedger")
    event = apps.get_model("controlloop", "ReplanEvent")
    trace = apps.get_model("inspector", "Trace")
    from_events = event.objects.filter(trace_id=OuterRef("trace_id")).order_by("pk").values("tenant_id")[:1]
    from_trace = trace.objects.filter(trace_id=OuterRef("trace_id")).order_by("pk").values("tenant_id")[:1]
    ledger.objects.update(tenant_id=Coalesce(Subquery(from_events), Subquery(from_trace), models.Value("default")))


class Migration(migrations.Migration):

    dependencies = [
        ("controlloop", "0003_breaker_cooldown"),
        ("inspector", "0006_source_specs_name_connections"),
    ]

    operations = [
        migrations.AddField(
            model_name="replanledger",
            name="tenant_id",
            field=models.CharField(default="default", max_length=64),
        ),
        migrations.RunPython(_fill_tenants, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="replanledger",
            name="trace_id",
            field=models.CharField(max_length=128),
        ),
        migrations.AddConstraint(
            model_name="replanledger",
            constraint=models.UniqueConstraint(fields=("trace_id", "tenant_id"), name="ledger_unique_trace_per_tenant"),
        ),
        migrations.AlterField(
            model_name="replanpolicy",
            name="name",
            field=models.CharField(max_length=100),
        ),
        migrations.AddConstraint(
            model_name="replanpolicy",
            constraint=models.UniqueConstraint(fields=("tenant_id", "name"), name="policy_unique_name_per_tenant"),
        ),
    ]
