"""Trace ids are unique per tenant: (trace_id, tenant_id) instead of trace_id alone.

Tenants choose their ids independently, and a clash with another tenant's id
must not reveal that id (docs/access.md). trace_id comes first in the new
index, so look-ups by trace_id alone still use it. Foreign keys that targeted
trace_id point at the primary key since regression 0007, which runs first.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("inspector", "0006_source_specs_name_connections"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trace",
            name="trace_id",
            field=models.CharField(max_length=128),
        ),
        migrations.AddConstraint(
            model_name="trace",
            constraint=models.UniqueConstraint(fields=("trace_id", "tenant_id"), name="trace_unique_id_per_tenant"),
        ),
    ]
